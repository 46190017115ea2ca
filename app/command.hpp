// The subcommands of the hepgnn binary. Each add_*_command registers its
// options with CLI11 and, when chosen, sets `selected` to its runner. The
// runner gets the process context (launch info and communicator) that main()
// builds after parsing, so `--help` never starts MPI.
#pragma once

#include <functional>
#include <string>

#include "comm/communicator.hpp"
#include "comm/launch_info.hpp"

namespace CLI {
class App;
}

namespace hepgnn::pipeline {
struct TrackBuildingConfig;
}

namespace hepgnn::app {

struct Context {
    comm::LaunchInfo launch;
    comm::Communicator* comm = nullptr;
    bool is_root() const { return comm->rank() == 0; }
};

using Runner = std::function<int(Context&)>;

// The commands that need no torch (app/commands/); the others are in
// app/model_commands/model_commands.hpp.
void add_simulate_command(CLI::App& app, Runner& selected);
void add_prepare_command(CLI::App& app, Runner& selected);
void add_inspect_command(CLI::App& app, Runner& selected);
void add_modulemap_command(CLI::App& app, Runner& selected);
void add_score_command(CLI::App& app, Runner& selected);

/// Adds the repeatable `--set section.key=value` option.
void add_set_option(CLI::App& command, std::vector<std::string>& overrides);

/// Adds --cut, --track-method and --min-hits (infer and evaluate share them).
void add_track_building_options(CLI::App& command, pipeline::TrackBuildingConfig& tracks);
/// A note on the root rank when the seed cut (Note [Seed cut]) left no
/// candidate among edges that exist.
void note_if_seed_cut_left_nothing(const Context& ctx, const std::string& command,
                                   const pipeline::TrackBuildingConfig& tracks, int64_t n_edges,
                                   int64_t n_candidates);

/// Prints "hepgnn: message" to stdout on rank 0 only.
void say(const Context& ctx, const std::string& message);

}  // namespace hepgnn::app
