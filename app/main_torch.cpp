// hepgnn-torch: every hepgnn command, the ones that run models included. Users call `hepgnn`,
// which execs this for them (Note [Torch-free front end] in app/main.cpp).
#include "app/command_line.hpp"
#include "app/model_commands/model_commands.hpp"

int main(int argc, char** argv) {
    using namespace hepgnn::app;
    Commands commands = torch_free_commands();
    for (const Command& c : model_commands()) commands.push_back(c);
    return run_command_line(argc, argv, commands);
}
