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

struct GraphFileStats {
    int64_t n_graphs = 0;
    int64_t n_events = 0;
    SizeSummary nodes, edges;
    int64_t true_edges = 0;
    double true_fraction = 0;
    int64_t file_bytes = 0;  // on disk
    int64_t raw_bytes = 0;   // in memory, uncompressed
    FeatureInfo features;
};

/// Reads (and so validates) every graph of `file`.
GraphFileStats compute_stats(const GraphFile& file, int n_bins = 10);

}  // namespace hepgnn::data
