// The body of main() that both executables share (Note [Torch-free front end] in
// app/main.cpp): parse the command line, start MPI when a launcher started the process, run
// the chosen command, and end every error as one line on stderr and a non-zero status.
#pragma once

#include <string_view>
#include <vector>

#include "app/command.hpp"

namespace hepgnn::app {

/// Registers one subcommand (an add_*_command of app/command.hpp).
using CommandRegistration = void (*)(CLI::App& app, Runner& selected);

/// One subcommand: its name (as its registration spells it), its registration, and whether it
/// runs models over many graphs and so gets the tuned heap (Note [Allocator policy]).
struct Command {
    std::string_view name;
    CommandRegistration add;
    bool runs_models = false;
};

using Commands = std::vector<Command>;

/// The commands that need no torch (app/commands/): `hepgnn` runs these itself.
inline Commands torch_free_commands() {
    return {{"simulate", add_simulate_command},
            {"prepare", add_prepare_command},
            {"inspect", add_inspect_command},
            {"modulemap", add_modulemap_command},
            {"score", add_score_command}};
}

/// The entry of `commands` named `name`, or null.
const Command* find_command(const Commands& commands, std::string_view name);

/// Parses argv against `commands` and runs the chosen one; returns the exit status.
int run_command_line(int argc, char** argv, const Commands& commands);

}  // namespace hepgnn::app
