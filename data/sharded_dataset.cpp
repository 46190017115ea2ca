#include "data/sharded_dataset.hpp"

#include <algorithm>
#include <map>

#include "data/graph_file.hpp"
#include "data/load_balance.hpp"

namespace hepgnn::data {

int64_t ShardedDataset::local_edges() const {
    int64_t n = 0;
    for (int64_t e : graph_edges) n += e;
    return n;
}

ShardedDataset load_shard(const std::filesystem::path& path, int rank, int size,
                          const ShardOptions& options) {
    return load_shard(path, rank, size, options, nullptr);
}

ShardedDataset load_shard(const std::filesystem::path& path, int rank, int size,
                          const ShardOptions& options, const GraphSink& sink) {
    const GraphFile file = GraphFile::open(path);
    int64_t n = file.num_graphs();
    if (options.max_graphs > 0) n = std::min(n, options.max_graphs);
    std::vector<int64_t> costs(static_cast<size_t>(n));
    ShardedDataset out;
    for (int64_t g = 0; g < n; ++g) {
        costs[g] = file.num_edges(g);
        out.global_edges += costs[g];
    }
    out.global_graphs = n;
    out.n_features = file.n_features();
    out.features = file.features();
    if (options.whole_events) {
        // Pack events (their graphs together) instead of single graphs.
        std::map<int64_t, std::vector<int64_t>> by_event;
        for (int64_t g = 0; g < n; ++g) by_event[file.event_ids()[g]].push_back(g);
        std::vector<std::vector<int64_t>> events;
        std::vector<int64_t> event_costs;
        for (auto& [id, ids] : by_event) {
            int64_t cost = 0;
            for (int64_t g : ids) cost += costs[g];
            events.push_back(std::move(ids));
            event_costs.push_back(cost);
        }
        const Bins shards = pack_longest_first(event_costs, size);
        for (int64_t e : shards[static_cast<size_t>(rank)])
            out.graph_ids.insert(out.graph_ids.end(), events[e].begin(), events[e].end());
        std::sort(out.graph_ids.begin(), out.graph_ids.end());
        out.shard_imbalance = balance_of(shards, event_costs).max_over_mean;
    } else {
        const Bins shards = pack_longest_first(costs, size);
        out.graph_ids = shards[static_cast<size_t>(rank)];
        out.shard_imbalance = balance_of(shards, costs).max_over_mean;
    }
    for (int64_t g : out.graph_ids) out.graph_edges.push_back(costs[g]);
    GraphFile::ReadOptions read;
    read.truth = options.truth;
    if (!sink) {
        out.graphs = file.read_graphs(out.graph_ids, read);
        return out;
    }
    for (int64_t g : out.graph_ids) sink(file.read_graph(g, read));
    return out;
}

}  // namespace hepgnn::data
