#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/command.hpp"
#include "pipeline/track_building.hpp"

namespace hepgnn::app {

void add_set_option(CLI::App& command, std::vector<std::string>& overrides) {
    command
        .add_option("--set", overrides,
                    "Override a config value, e.g. --set training.epochs=2 (repeatable)")
        ->type_name("KEY=VALUE")
        ->expected(1)
        ->take_all();
}

void add_track_building_options(CLI::App& command, pipeline::TrackBuildingConfig& tracks) {
    command.add_option("--cut", tracks.cut, "Edge score cut for track building")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    command
        .add_option("--track-method", tracks.method,
                    "components (connected components of the edges above the cut) | "
                    "junction_removal (only the best edge on each side of a hit) | walkthrough "
                    "(greedy chains, best edges first) | walkthrough_doubles (chains that keep "
                    "both hits of a double hit)")
        ->check(CLI::IsMember(pipeline::track_building_methods()))
        ->capture_default_str();
    command
        .add_option("--min-hits", tracks.min_hits,
                    "Smallest track candidate kept (evaluate also counts reconstructable "
                    "particles and tracks from this many hits)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    command
        .add_option("--seed-cut", tracks.seed_cut,
                    "Keep only candidates with an edge scored above this (with --cut below it: "
                    "low-score edges extend confident tracks but make none of their own)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
}

void note_if_seed_cut_left_nothing(const Context& ctx, const std::string& command,
                                   const pipeline::TrackBuildingConfig& tracks, int64_t n_edges,
                                   int64_t n_candidates) {
    if (n_candidates > 0 || n_edges == 0 || !(tracks.seed_cut > tracks.cut)) return;
    say(ctx, fmt::format("{}: note: no track candidate holds an edge scored above --seed-cut {} "
                         "(a model early in training scores few edges that high); lower "
                         "--seed-cut, 0 turns it off",
                         command, tracks.seed_cut));
}

void say(const Context& ctx, const std::string& message) {
    if (!ctx.is_root()) return;
    std::printf("%s\n", message.c_str());
    std::fflush(stdout);
}

}  // namespace hepgnn::app
