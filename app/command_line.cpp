#include "app/command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <memory>
#include <utility>

#include "comm/mpi_communicator.hpp"
#include "core/allocator_policy.hpp"
#include "core/error.hpp"

namespace hepgnn::app {

const Command* find_command(const Commands& commands, std::string_view name) {
    for (const Command& c : commands)
        if (c.name == name) return &c;
    return nullptr;
}

int run_command_line(int argc, char** argv, const Commands& commands) {
    CLI::App cli{
        "hepgnn: distributed training of graph neural networks for particle-track finding.\n"
        "Run 'hepgnn SUBCOMMAND --help' for the options of each step."};
    cli.require_subcommand(1);
    cli.set_version_flag("--version", "hepgnn 0.1.0");
    Runner selected;
    for (const Command& c : commands) {
        c.add(cli, selected);
        // A table name that is not the registered one would send the command to the wrong
        // executable or heap: fail at once, in every test that runs a command.
        const auto named = [&](const CLI::App* sub) { return sub->get_name() == c.name; };
        if (std::as_const(cli).get_subcommands(named).empty()) {
            std::fprintf(stderr, "hepgnn: internal error: command table: no subcommand '%.*s'\n",
                         static_cast<int>(c.name.size()), c.name.data());
            return 70;  // EX_SOFTWARE
        }
    }
    try {
        cli.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        return cli.exit(e);
    }
    const std::string command = cli.get_subcommands().front()->get_name();
    if (const Command* chosen = find_command(commands, command); chosen && chosen->runs_models)
        apply_training_allocator_policy(argv);

    std::unique_ptr<comm::MpiRuntime> mpi;
    std::unique_ptr<comm::Communicator> communicator;
    Context ctx;
    int rank = 0, size = 1;
    try {
        ctx.launch = comm::detect_launch(comm::process_env());
        if (ctx.launch.is_parallel_launch()) {
            mpi = std::make_unique<comm::MpiRuntime>(&argc, &argv);
            communicator = comm::make_mpi_communicator();
        } else {
            communicator = comm::make_local_communicator();
        }
        ctx.comm = communicator.get();
        rank = communicator->rank();
        size = communicator->size();
        return selected(ctx);
    } catch (const CollectiveError& e) {
        // Every rank holds this message: rank 0 reports it, all exit cleanly.
        if (rank == 0) std::fprintf(stderr, "hepgnn %s: error: %s\n", command.c_str(), e.what());
        return 1;
    } catch (const std::exception& e) {
        // Commands agree on errors at their collective points (so every rank
        // exits cleanly with the failing rank's message); an error that
        // escapes to here may leave other ranks waiting, so end them all.
        const bool internal = dynamic_cast<const InternalError*>(&e) != nullptr;
        const bool known = internal || dynamic_cast<const Error*>(&e) != nullptr;
        const std::string where =
            size > 1 ? fmt::format(" (rank {} of {})", rank, size) : std::string();
        std::fprintf(stderr, "hepgnn %s: error%s: %s%s\n", command.c_str(), where.c_str(),
                     known ? "" : "unexpected: ", e.what());
        std::fflush(stderr);
        if (size > 1) comm::MpiRuntime::abort(1);
        return 1;
    }
}

}  // namespace hepgnn::app
