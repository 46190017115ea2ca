// Summary statistics of a graph file, for `hepgnn inspect`: counts, size
// distributions with a histogram, true-edge fraction and bytes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/graph_file.hpp"

namespace hepgnn::data {

struct SizeSummary {
    int64_t total = 0;
    int64_t min = 0, max = 0;
    double median = 0, mean = 0;
    std::vector<int64_t> bin_edges;   // n_bins + 1 edges, equal width over [min, max]
    std::vector<int64_t> bin_counts;  // n_bins counts

    /// Summary of `values` with an equal-width histogram of `n_bins` bins.
    static SizeSummary of(std::vector<int64_t> values, int n_bins);
    /// The histogram as text lines, one bar per bin.
    std::string histogram_text(int width = 40) const;
};

/// Counts of one detector layer (or, with layer_id -1, one volume).
struct LayerCounts {
    int32_t volume_id = 0, layer_id = 0;
    int64_t hits = 0;            // distinct hits (a halo node shared by two graphs counts once)
    int64_t edges_out = 0;       // edges whose inner hit is here
    int64_t edges_in = 0;        // edges whose outer hit is here
    int64_t true_edges_out = 0;  // of edges_out, labelled true
};

struct GraphFileStats {
    int64_t n_graphs = 0;
    int64_t n_events = 0;
    SizeSummary nodes, edges;
    int64_t true_edges = 0;
    double true_fraction = 0;
    int64_t file_bytes = 0;  // on disk
    int64_t raw_bytes = 0;   // in memory, uncompressed
    FeatureInfo features;
    int64_t hits = 0;                  // distinct hits over all events
    double edges_per_hit = 0;          // edges.total / hits
    std::vector<LayerCounts> layers;   // by (volume, layer); empty for files without layer ids
    std::vector<LayerCounts> volumes;  // by volume (layer_id -1)
};

/// Reads (and so validates) every graph of `file`.
GraphFileStats compute_stats(const GraphFile& file, int n_bins = 10);

}  // namespace hepgnn::data
