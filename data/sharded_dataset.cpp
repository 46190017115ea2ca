#include "data/sharded_dataset.hpp"

#include "data/graph_file.hpp"
#include "data/load_balance.hpp"

namespace hepgnn::data {

int64_t ShardedDataset::local_edges() const {
    int64_t n = 0;
    for (const auto& g : graphs) n += g.n_edges();
    return n;
}

ShardedDataset load_shard(const std::filesystem::path& path, int rank, int size,
                          const ShardOptions& options) {
    const GraphFile file = GraphFile::open(path);
    int64_t n = file.num_graphs();
    if (options.max_graphs > 0) n = std::min(n, options.max_graphs);
    std::vector<int64_t> costs(static_cast<size_t>(n));
    ShardedDataset out;
    for (int64_t g = 0; g < n; ++g) {
        costs[g] = file.num_edges(g);
        out.global_edges += costs[g];
    }
    const Bins shards = pack_longest_first(costs, size);
    out.global_graphs = n;
    out.n_features = file.n_features();
    out.graph_ids = shards[static_cast<size_t>(rank)];
    out.shard_imbalance = balance_of(shards, costs).max_over_mean;
    GraphFile::ReadOptions read;
    read.truth = options.truth;
    out.graphs = file.read_graphs(out.graph_ids, read);
    return out;
}

}  // namespace hepgnn::data
