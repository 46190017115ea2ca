// hepgnn inspect: what is in a graph file (and whether it is valid).
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <memory>

#include "app/command.hpp"
#include "data/graph_stats.hpp"

namespace hepgnn::app {
namespace {

struct InspectOptions {
    std::string file;
    bool json = false;
    int bins = 10;
};

nlohmann::json to_json(const data::SizeSummary& s) {
    return {{"total", s.total},
            {"min", s.min},
            {"median", s.median},
            {"mean", s.mean},
            {"max", s.max},
            {"histogram_edges", s.bin_edges},
            {"histogram_counts", s.bin_counts}};
}

nlohmann::json to_json(const std::vector<data::LayerCounts>& rows) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& c : rows) {
        nlohmann::json j = {{"volume_id", c.volume_id},
                            {"hits", c.hits},
                            {"edges_out", c.edges_out},
                            {"edges_in", c.edges_in},
                            {"true_edges_out", c.true_edges_out}};
        if (c.layer_id >= 0) j["layer_id"] = c.layer_id;
        out.push_back(j);
    }
    return out;
}

/// One line per layer or volume: hits, edges leaving and entering, true share.
std::string layer_table(const std::vector<data::LayerCounts>& rows, const char* title) {
    std::string out = fmt::format("{:<14} {:>10} {:>11} {:>11} {:>11} {:>9}\n", title, "hits",
                                  "edges out", "edges in", "out/hit", "true out");
    for (const auto& c : rows) {
        const std::string name = c.layer_id >= 0 ? fmt::format("{}/{}", c.volume_id, c.layer_id)
                                                 : fmt::format("{}", c.volume_id);
        out += fmt::format("  {:<12} {:>10} {:>11} {:>11} {:>11.2f} {:>9.4f}\n", name, c.hits,
                           c.edges_out, c.edges_in,
                           c.hits > 0 ? double(c.edges_out) / double(c.hits) : 0.0,
                           c.edges_out > 0 ? double(c.true_edges_out) / double(c.edges_out) : 0.0);
    }
    return out;
}

int run_inspect(const InspectOptions& opt, Context& ctx) {
    if (!ctx.is_root()) return 0;
    const auto file = data::GraphFile::open(opt.file);
    const auto st = data::compute_stats(file, opt.bins);
    if (opt.json) {
        nlohmann::json j = {{"file", opt.file},
                            {"n_graphs", st.n_graphs},
                            {"n_events", st.n_events},
                            {"nodes", to_json(st.nodes)},
                            {"edges", to_json(st.edges)},
                            {"true_edges", st.true_edges},
                            {"true_edge_fraction", st.true_fraction},
                            {"file_bytes", st.file_bytes},
                            {"raw_bytes", st.raw_bytes},
                            {"feature_names", st.features.names},
                            {"feature_scale", st.features.scale},
                            {"hits", st.hits},
                            {"edges_per_hit", st.edges_per_hit},
                            {"volumes", to_json(st.volumes)},
                            {"layers", to_json(st.layers)}};
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf(
        "%s\n",
        fmt::format("file:        {}\n"
                    "graphs:      {} from {} events\n"
                    "features:    {}\n"
                    "nodes:       total {}, min {}, median {}, mean {:.1f}, max {}\n"
                    "{}"
                    "edges:       total {}, min {}, median {}, mean {:.1f}, max {}\n"
                    "{}"
                    "true edges:  {} ({:.4f} of all edges)\n"
                    "hits:        {} distinct, {:.2f} edges per hit\n"
                    "bytes:       {} on disk, {} in memory uncompressed",
                    opt.file, st.n_graphs, st.n_events, st.features.describe(), st.nodes.total,
                    st.nodes.min, st.nodes.median, st.nodes.mean, st.nodes.max,
                    st.nodes.histogram_text(), st.edges.total, st.edges.min, st.edges.median,
                    st.edges.mean, st.edges.max, st.edges.histogram_text(), st.true_edges,
                    st.true_fraction, st.hits, st.edges_per_hit, st.file_bytes, st.raw_bytes)
            .c_str());
    if (!st.volumes.empty()) {
        std::printf("%s", layer_table(st.volumes, "volume").c_str());
        std::printf("%s", layer_table(st.layers, "volume/layer").c_str());
    }
    return 0;
}

}  // namespace

void add_inspect_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<InspectOptions>();
    auto* cmd = app.add_subcommand(
        "inspect",
        "Counts, size histograms, true-edge fraction, edges per hit and per-volume and per-layer "
        "counts of a graph file (validates it)");
    cmd->add_option("file", opt->file, "Graph file (.h5) from 'hepgnn prepare'")->required();
    cmd->add_flag("--json", opt->json, "Print a JSON object instead of text");
    cmd->add_option("--bins", opt->bins, "Histogram bins")->check(CLI::Range(1, 1000));
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_inspect(*opt, ctx); }; });
}

}  // namespace hepgnn::app
