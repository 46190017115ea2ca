// hepgnn prepare: TrackML CSV events -> event graphs (HDF5). Under mpirun
// each rank builds the graphs of every size-th event into a part file; rank 0
// merges the parts into the one output file, so training reads one logical
// dataset.
#include <CLI/CLI.hpp>

#include <chrono>
#include <filesystem>
#include <memory>

#include "app/command.hpp"
#include "app/config_schemas.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/graph_builder.hpp"
#include "data/graph_file.hpp"
#include "data/trackml_csv.hpp"

namespace hepgnn::app {
namespace {

struct PrepareOptions {
    std::string input;
    std::string out;
    std::string config;
    std::vector<std::string> overrides;
    int64_t max_events = 0;
};

struct PrepareTotals {
    int64_t events = 0, graphs = 0, nodes = 0, edges = 0, true_edges = 0;
};

namespace fs = std::filesystem;

int run_prepare(const PrepareOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    const auto start = std::chrono::steady_clock::now();
    // Every rank validates the config and lists the events itself (same
    // files, same sorted order), so no rank waits for another to fail.
    const Config config = Config::load(prepare_schema(), opt.config, opt.overrides);
    const data::GraphBuilder builder(graph_builder_config(config));
    std::vector<int64_t> events = data::list_trackml_events(opt.input, opt.max_events);

    const fs::path out = opt.out;
    const fs::path part =
        comm.size() == 1 ? out : fs::path(out.string() + ".part" + std::to_string(comm.rank()));
    PrepareTotals totals;
    std::string error;
    try {
        data::GraphFileWriter writer(part, data::GraphBuilder::feature_info(builder.config()));
        const int64_t mine =
            (static_cast<int64_t>(events.size()) - comm.rank() + comm.size() - 1) / comm.size();
        Progress progress("prepare", mine, Progress::config_for(stderr, ctx.is_root(), "events"));
        for (size_t i = static_cast<size_t>(comm.rank()); i < events.size();
             i += static_cast<size_t>(comm.size())) {
            const auto event = data::read_trackml_event(opt.input, events[i]);
            for (const auto& g : builder.build(event)) {
                totals.graphs += 1;
                totals.nodes += g.n_nodes;
                totals.edges += g.n_edges();
                for (uint8_t y : g.y) totals.true_edges += y;
                writer.append(g);
            }
            totals.events += 1;
            progress.update(totals.events, fmt::format("{} graphs", totals.graphs));
        }
        writer.commit();
        progress.finish();
    } catch (const Error& e) {
        error = e.what();
    }
    const std::string agreed = comm.agree_on_error(error);
    if (!agreed.empty()) {
        std::error_code ec;
        if (part != out) fs::remove(part, ec);
        throw CollectiveError(agreed);
    }

    int64_t sums[5] = {totals.events, totals.graphs, totals.nodes, totals.edges, totals.true_edges};
    comm.allreduce(sums, 5);
    if (comm.size() > 1) {
        comm.collectively([&] {
            if (!ctx.is_root()) return;
            std::vector<fs::path> parts;
            for (int r = 0; r < comm.size(); ++r)
                parts.emplace_back(out.string() + ".part" + std::to_string(r));
            // The parts go whether or not the merge succeeds.
            struct RemoveParts {
                const std::vector<fs::path>& parts;
                ~RemoveParts() {
                    std::error_code ec;
                    for (const auto& p : parts) fs::remove(p, ec);
                }
            } remove_parts{parts};
            data::merge_graph_files(parts, out);
        });
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    say(ctx, fmt::format("prepare: {} events -> {} graphs, {} nodes, {} edges (true fraction "
                         "{:.3f}) in {:.1f} s on {} rank(s): {}",
                         sums[0], sums[1], sums[2], sums[3],
                         sums[3] > 0 ? double(sums[4]) / sums[3] : 0.0, seconds, comm.size(),
                         out.string()));
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
    add_set_option(*cmd, opt->overrides);
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_prepare(*opt, ctx); }; });
}

}  // namespace hepgnn::app
