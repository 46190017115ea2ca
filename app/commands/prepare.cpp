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
#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/graph_builder.hpp"
#include "data/graph_file.hpp"
#include "data/parallel_graph_file.hpp"
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

/// This rank's contiguous block [begin, end) of `n` events: rank r of size gets the r-th of
/// `size` nearly equal blocks, so the ranks' blocks in rank order are the events in order.
std::pair<size_t, size_t> event_block(size_t n, int rank, int size) {
    const auto block = [&](int r) {
        return n * static_cast<size_t>(r) / static_cast<size_t>(size);
    };
    return {block(rank), block(rank + 1)};
}

/// Builds the graphs of events [begin, end) into `sink` (GraphFileWriter or GraphColumnSpill).
template <typename Sink>
PrepareTotals build_events(const PrepareOptions& opt, Context& ctx,
                           const data::GraphBuilder& builder, const std::vector<int64_t>& events,
                           std::pair<size_t, size_t> block, Sink& sink) {
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

/// The whole file's index on every rank, from each rank's own: the ranks' graphs in rank order.
data::GraphIndex gather_index(comm::Communicator& comm, const data::GraphIndex& mine) {
    const auto counts = comm.allgather_value<int64_t>(mine.num_graphs());
    int64_t total = 0, first = 0;
    for (int r = 0; r < comm.size(); ++r) {
        if (r == comm.rank()) first = total;
        total += counts[static_cast<size_t>(r)];
    }
    // Each rank fills its slice of zeroed arrays, and a sum gives every rank all of them.
    std::vector<int64_t> columns(static_cast<size_t>(4 * total), 0);
    for (int64_t g = 0; g < mine.num_graphs(); ++g) {
        const auto at = static_cast<size_t>(first + g);
        const auto k = static_cast<size_t>(g);
        columns[at] = mine.node_offsets[k + 1] - mine.node_offsets[k];
        columns[static_cast<size_t>(total) + at] = mine.edge_offsets[k + 1] - mine.edge_offsets[k];
        columns[static_cast<size_t>(2 * total) + at] = mine.event_ids[k];
        columns[static_cast<size_t>(3 * total) + at] = mine.section_ids[k];
    }
    comm.allreduce(columns.data(), columns.size());
    data::GraphIndex all;
    for (int64_t g = 0; g < total; ++g) {
        const auto at = static_cast<size_t>(g);
        all.add(columns[at], columns[static_cast<size_t>(total) + at],
                columns[static_cast<size_t>(2 * total) + at],
                static_cast<int32_t>(columns[static_cast<size_t>(3 * total) + at]));
    }
    return all;
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
    if (comm.size() == 1) {
        data::GraphFileWriter writer(out, features);
        totals = build_events(opt, ctx, builder, events, block, writer);
        built = since_start();
        writer.commit();
    } else {
        // Note [Parallel graph file]: spill, agree on the layout, write in place, publish.
        std::unique_ptr<data::GraphColumnSpill> spill;
        comm.collectively([&] {
            const std::string name =
                out.filename().string() + ".spill" + std::to_string(comm.rank());
            const fs::path dir =
                opt.spill_dir.empty() ? out.parent_path() : fs::path(opt.spill_dir);
            spill = std::make_unique<data::GraphColumnSpill>(
                dir / name, static_cast<int32_t>(features.names.size()));
            totals = build_events(opt, ctx, builder, events, block, *spill);
            built = since_start();
        });
        const data::GraphIndex index = gather_index(comm, spill->index());
        data::GraphFileLayout layout;
        comm.collectively([&] {
            if (ctx.is_root()) layout = data::create_graph_file_layout(out, index, features);
        });
        layout.tmp_path = comm.broadcast_string(layout.tmp_path.string());
        layout.n_features = static_cast<int32_t>(features.names.size());
        layout.n_nodes = index.num_nodes();
        layout.n_edges = index.num_edges();
        comm.broadcast(layout.column_offsets.data(), layout.column_offsets.size());
        int64_t first_node = 0, first_edge = 0;
        {
            const auto nodes = comm.allgather_value<int64_t>(spill->index().num_nodes());
            const auto edges = comm.allgather_value<int64_t>(spill->index().num_edges());
            for (int r = 0; r < comm.rank(); ++r) {
                first_node += nodes[static_cast<size_t>(r)];
                first_edge += edges[static_cast<size_t>(r)];
            }
        }
        try {
            comm.collectively([&] { spill->write_into(layout, first_node, first_edge); });
            spill.reset();  // the spill files go before the file appears
            comm.collectively([&] {
                if (ctx.is_root()) data::publish_graph_file(layout, out);
            });
        } catch (...) {
            std::error_code ec;
            if (ctx.is_root()) fs::remove(layout.tmp_path, ec);
            throw;
        }
    }

    int64_t sums[5] = {totals.events, totals.graphs, totals.nodes, totals.edges, totals.true_edges};
    comm.allreduce(sums, 5);
    comm.allreduce(&built, 1, comm::ReduceOp::kMax);
    const double seconds = since_start();
    say(ctx, fmt::format("prepare: {} events -> {} graphs, {} nodes, {} edges (true fraction "
                         "{:.3f}) in {:.2f} s on {} rank(s) (graphs built after {:.2f} s): {}",
                         sums[0], sums[1], sums[2], sums[3],
                         sums[3] > 0 ? double(sums[4]) / sums[3] : 0.0, seconds, comm.size(), built,
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
    cmd->add_option("--spill-dir", opt->spill_dir,
                    "On N ranks: folder for each rank's graphs until they are written into the "
                    "output (default: the output's folder; node-local scratch or /dev/shm is "
                    "faster)");
    add_set_option(*cmd, opt->overrides);
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_prepare(*opt, ctx); }; });
}

}  // namespace hepgnn::app
