#include "data/graph_stats.hpp"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

namespace hepgnn::data {

SizeSummary SizeSummary::of(std::vector<int64_t> values, int n_bins) {
    SizeSummary s;
    if (values.empty()) return s;
    std::sort(values.begin(), values.end());
    for (int64_t v : values) s.total += v;
    s.min = values.front();
    s.max = values.back();
    const size_t n = values.size();
    s.median = n % 2 ? double(values[n / 2]) : 0.5 * double(values[n / 2 - 1] + values[n / 2]);
    s.mean = double(s.total) / double(n);
    const int64_t width = std::max<int64_t>(1, (s.max - s.min + n_bins) / n_bins);
    for (int b = 0; b <= n_bins; ++b) s.bin_edges.push_back(s.min + b * width);
    s.bin_counts.assign(static_cast<size_t>(n_bins), 0);
    for (int64_t v : values) {
        const auto b = std::min<int64_t>(n_bins - 1, (v - s.min) / width);
        s.bin_counts[static_cast<size_t>(b)] += 1;
    }
    return s;
}

std::string SizeSummary::histogram_text(int width) const {
    std::ostringstream os;
    const int64_t peak =
        bin_counts.empty() ? 0 : *std::max_element(bin_counts.begin(), bin_counts.end());
    for (size_t b = 0; b < bin_counts.size(); ++b) {
        const int bar = peak > 0 ? static_cast<int>(bin_counts[b] * width / peak) : 0;
        os << fmt::format("  [{:>9}, {:>9}) {:>7} {}\n", bin_edges[b], bin_edges[b + 1],
                          bin_counts[b], std::string(static_cast<size_t>(bar), '#'));
    }
    return os.str();
}

GraphFileStats compute_stats(const GraphFile& file, int n_bins) {
    GraphFileStats st;
    st.n_graphs = file.num_graphs();
    st.features = file.features();
    std::vector<int64_t> nodes, edges;
    std::set<int64_t> events(file.event_ids().begin(), file.event_ids().end());
    st.n_events = static_cast<int64_t>(events.size());
    std::set<std::pair<int64_t, int64_t>> seen_hits;  // (event, hit id)
    std::map<std::pair<int32_t, int32_t>, LayerCounts> layers;
    for (int64_t g = 0; g < st.n_graphs; ++g) {
        // Reading every graph also validates it (indices, finite features).
        const EventGraph graph = file.read_graph(g);
        nodes.push_back(graph.n_nodes);
        edges.push_back(graph.n_edges());
        for (uint8_t y : graph.y) st.true_edges += y;
        st.raw_bytes += graph.nbytes();
        const bool has_layers = static_cast<int64_t>(graph.volume_id.size()) == graph.n_nodes;
        const auto counts = [&](int64_t node) -> LayerCounts& {
            const std::pair<int32_t, int32_t> key{graph.volume_id[node], graph.layer_id[node]};
            LayerCounts& c = layers[key];
            c.volume_id = key.first;
            c.layer_id = key.second;
            return c;
        };
        for (int64_t i = 0; i < graph.n_nodes; ++i) {
            if (!seen_hits.insert({graph.event_id, graph.hit_id[i]}).second) continue;
            if (has_layers) counts(i).hits += 1;
        }
        if (!has_layers) continue;
        for (int64_t e = 0; e < graph.n_edges(); ++e) {
            LayerCounts& out = counts(graph.senders[e]);
            out.edges_out += 1;
            out.true_edges_out += graph.y[e];
            counts(graph.receivers[e]).edges_in += 1;
        }
    }
    st.hits = static_cast<int64_t>(seen_hits.size());
    std::map<int32_t, LayerCounts> volumes;
    for (const auto& [key, c] : layers) {
        st.layers.push_back(c);
        LayerCounts& v = volumes[key.first];
        v.volume_id = key.first;
        v.layer_id = -1;
        v.hits += c.hits;
        v.edges_out += c.edges_out;
        v.edges_in += c.edges_in;
        v.true_edges_out += c.true_edges_out;
    }
    for (const auto& [id, v] : volumes) st.volumes.push_back(v);
    st.nodes = SizeSummary::of(nodes, n_bins);
    st.edges = SizeSummary::of(edges, n_bins);
    st.true_fraction = st.edges.total > 0 ? double(st.true_edges) / double(st.edges.total) : 0.0;
    st.edges_per_hit = st.hits > 0 ? double(st.edges.total) / double(st.hits) : 0.0;
    std::error_code ec;
    const auto size = std::filesystem::file_size(file.path(), ec);
    st.file_bytes = ec ? 0 : static_cast<int64_t>(size);
    return st;
}

}  // namespace hepgnn::data
