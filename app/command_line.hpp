// The body of main() that both executables share (Note [Torch-free front end] in
// app/main.cpp): parse the command line, start MPI when a launcher started the process, run
// the chosen command, and end every error as one line on stderr and a non-zero status.
#pragma once

#include <initializer_list>

#include "app/command.hpp"

namespace hepgnn::app {

/// Registers one subcommand (an add_*_command of app/command.hpp).
using CommandRegistration = void (*)(CLI::App& app, Runner& selected);

/// Parses argv against `commands` and runs the chosen one; returns the exit status.
int run_command_line(int argc, char** argv, std::initializer_list<CommandRegistration> commands);

}  // namespace hepgnn::app
