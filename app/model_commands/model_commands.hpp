// The subcommands that run models, and so link torch: they live in hepgnn-torch (Note
// [Torch-free front end] in app/main.cpp). Registration works as in app/command.hpp.
#pragma once

#include "app/command_line.hpp"

namespace hepgnn::app {

void add_train_command(CLI::App& app, Runner& selected);
void add_evaluate_command(CLI::App& app, Runner& selected);
void add_bench_command(CLI::App& app, Runner& selected);
void add_export_command(CLI::App& app, Runner& selected);
void add_infer_command(CLI::App& app, Runner& selected);

/// The commands of hepgnn-torch beside torch_free_commands(); all but export run models over
/// many graphs and get the tuned heap.
inline Commands model_commands() {
    return {{"train", add_train_command, true},
            {"evaluate", add_evaluate_command, true},
            {"infer", add_infer_command, true},
            {"bench", add_bench_command, true},
            {"export", add_export_command, false}};
}

/// The help of infer's and evaluate's --bf16.
inline constexpr const char* kBf16Help =
    "Matrix products of the GNN in bfloat16 with float32 sums (interaction_network "
    "checkpoints, CPUs with AVX512-BF16; Note [bfloat16 products])";

}  // namespace hepgnn::app
