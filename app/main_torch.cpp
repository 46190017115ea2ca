// hepgnn-torch: every hepgnn command, the ones that run models included. Users call `hepgnn`,
// which execs this for them (Note [Torch-free front end] in app/main.cpp).
#include "app/command_line.hpp"
#include "app/model_commands/model_commands.hpp"

int main(int argc, char** argv) {
    using namespace hepgnn::app;
    return run_command_line(
        argc, argv,
        {add_simulate_command, add_prepare_command, add_inspect_command, add_train_command,
         add_evaluate_command, add_bench_command, add_export_command, add_infer_command,
         add_modulemap_command, add_score_command});
}
