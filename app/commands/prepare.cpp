// hepgnn prepare: TrackML CSV events -> event graphs (HDF5). Under mpirun each
// rank builds the graphs of a contiguous block of the events, and all ranks
// write them into the one output file at once (Note [Parallel graph file] in
// data/parallel_graph_file.hpp), so training reads one logical dataset.
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <memory>

#include "app/command.hpp"
#include "app/config_schemas.hpp"
#include "app/graph_output.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/graph_builder.hpp"
#include "data/trackml_csv.hpp"

namespace hepgnn::app {
namespace {

struct PrepareOptions {
    std::string input;
    std::string out;
    std::string config;
    std::vector<std::string> overrides;
    int64_t max_events = 0;
    std::string
        spill_dir;  // N ranks: where each rank's graphs wait for the file (default: beside it)
};

struct PrepareTotals {
    int64_t events = 0, graphs = 0, nodes = 0, edges = 0, true_edges = 0;
};

namespace fs = std::filesystem;

/// Builds the graphs of events [begin, end) into `sink`.
PrepareTotals build_events(const PrepareOptions& opt, Context& ctx,
                           const data::GraphBuilder& builder, const std::vector<int64_t>& events,
                           std::pair<size_t, size_t> block, GraphOutput& sink) {
    PrepareTotals totals;
    const auto mine = static_cast<int64_t>(block.second - block.first);
    Progress progress("prepare", mine, Progress::config_for(stderr, ctx.is_root(), "events"));
    for (size_t i = block.first; i < block.second; ++i) {
        const auto event = data::read_trackml_event(opt.input, events[i]);
        for (const auto& g : builder.build(event)) {
            totals.graphs += 1;
            totals.nodes += g.n_nodes;
            totals.edges += g.n_edges();
            for (uint8_t y : g.y) totals.true_edges += y;
            sink.append(g);
        }
        totals.events += 1;
        progress.update(totals.events, fmt::format("{} graphs", totals.graphs));
    }
    progress.finish();
    return totals;
}

int run_prepare(const PrepareOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    const auto start = std::chrono::steady_clock::now();
    // Every rank validates the config and lists the events itself (same
    // files, same sorted order), so no rank waits for another to fail.
    const Config config = Config::load(prepare_schema(), opt.config, opt.overrides);
    const data::GraphBuilder builder(graph_builder_config(config));
    const auto features = data::GraphBuilder::feature_info(builder.config());
    std::vector<int64_t> events = data::list_trackml_events(opt.input, opt.max_events);
    const auto block = event_block(events.size(), comm.rank(), comm.size());

    const fs::path out = opt.out;
    PrepareTotals totals;
    auto since_start = [&start] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    double built = 0;  // seconds until this rank's graphs were built
    {
        GraphOutput output(comm, out, features, opt.spill_dir);
        comm.collectively([&] {
            totals = build_events(opt, ctx, builder, events, block, output);
            built = since_start();
        });
        output.commit();
    }

    int64_t sums[5] = {totals.events, totals.graphs, totals.nodes, totals.edges, totals.true_edges};
    comm.allreduce(sums, 5);
    double first_built = built;
    comm.allreduce(&built, 1, comm::ReduceOp::kMax);
    comm.allreduce(&first_built, 1, comm::ReduceOp::kMin);
    const double seconds = since_start();
    say(ctx,
        fmt::format(
            "prepare: {} events -> {} graphs, {} nodes, {} edges (true fraction "
            "{:.3f}) in {:.2f} s on {} rank(s) (graphs built after {:.2f} s, by the first rank "
            "after {:.2f} s): {}",
            sums[0], sums[1], sums[2], sums[3], sums[3] > 0 ? double(sums[4]) / sums[3] : 0.0,
            seconds, comm.size(), built, first_built, out.string()));
    return 0;
}

}  // namespace

void add_prepare_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<PrepareOptions>();
    auto* cmd = app.add_subcommand(
        "prepare",
        "Build event graphs (HDF5) from TrackML CSV events; runs on 1..N MPI ranks.\n"
        "Config keys (top level of --config YAML, or --set key=value):\n" +
            prepare_schema().describe());
    cmd->add_option("--input", opt->input, "Folder of eventNNNNNNNNN-{hits,truth,particles}.csv")
        ->required();
    cmd->add_option("--out", opt->out, "Output graph file (.h5)")->required();
    cmd->add_option("--config", opt->config, "Prepare config (YAML)");
    cmd->add_option("--max-events", opt->max_events, "Use at most this many events (0: all)");
    cmd->add_option("--spill-dir", opt->spill_dir,
                    "On N ranks: folder for each rank's graphs until they are written into the "
                    "output (default: the output's folder; node-local scratch or /dev/shm is "
                    "faster)");
    add_set_option(*cmd, opt->overrides);
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_prepare(*opt, ctx); }; });
}

}  // namespace hepgnn::app
