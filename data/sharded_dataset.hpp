// One rank's share of a graph file. Every rank reads only the offsets,
// computes the same longest-first assignment of graphs to ranks by edge count
// (data/load_balance.hpp) and then reads only its own graphs.
#pragma once

#include <filesystem>
#include <functional>
#include <vector>

#include "data/event_graph.hpp"

namespace hepgnn::data {

struct ShardedDataset {
    std::vector<EventGraph> graphs;    // this rank's graphs (none when streamed to a sink)
    std::vector<int64_t> graph_ids;    // their indices in the file
    std::vector<int64_t> graph_edges;  // their edge counts, in graph_ids order
    int64_t global_graphs = 0;         // in the (possibly limited) file
    int64_t global_edges = 0;
    int32_t n_features = 0;
    FeatureInfo features;          // names and scales of the file
    double shard_imbalance = 1.0;  // max/mean edges over ranks

    int64_t local_edges() const;
};

struct ShardOptions {
    int64_t max_graphs = 0;     // use only the first max_graphs graphs (0: all)
    bool truth = false;         // also read hit_id, particle_id, pt
    bool whole_events = false;  // keep all graphs of an event on one rank (track building)
};

ShardedDataset load_shard(const std::filesystem::path& file, int rank, int size,
                          const ShardOptions& options);

/// The same, but each graph goes to `sink` as soon as it is read (in graph_ids order) and
/// `graphs` stays empty: a rank never holds more than one raw graph at a time, e.g. when
/// the sink compresses graphs into a data::CompressedGraphStore.
using GraphSink = std::function<void(EventGraph&&)>;
ShardedDataset load_shard(const std::filesystem::path& file, int rank, int size,
                          const ShardOptions& options, const GraphSink& sink);

}  // namespace hepgnn::data
