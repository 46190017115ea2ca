// Load balancing by edge count, the cost that dominates a GNN step:
//  * shard assignment: which rank owns which graph (longest-processing-time
//    first, the same on every rank since it depends only on the offsets);
//  * per-epoch steps: each rank packs its shuffled graphs into a fixed
//    number of steps with balanced edge counts.
#pragma once

#include <cstdint>
#include <vector>

namespace hepgnn::data {

using Bins = std::vector<std::vector<int64_t>>;  // item indices per bin

/// Longest-processing-time-first: items by decreasing cost (ties by index),
/// each into the currently lightest bin (ties by bin index). Deterministic.
/// Within a bin, indices are ascending.
Bins pack_longest_first(const std::vector<int64_t>& costs, int n_bins);

/// Baseline: contiguous chunks of equal item count.
Bins pack_contiguous(const std::vector<int64_t>& costs, int n_bins);

/// Items in the given order, each into the lightest bin (keeps the order's
/// randomness, unlike longest-first, while bounding the spread by the
/// largest item).
Bins pack_in_order(const std::vector<int64_t>& order, const std::vector<int64_t>& costs,
                   int n_bins);

struct BalanceStats {
    int64_t min = 0, max = 0;
    double mean = 0;
    double max_over_mean = 0;  // 1.0 is perfect
};
BalanceStats balance_of(const Bins& bins, const std::vector<int64_t>& costs);

/// A random permutation of 0..n-1 from (seed, epoch, rank): the same on
/// every run, different per epoch and rank. Uses its own generator so it does
/// not depend on the standard library's distributions.
std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch, int rank);

/// One epoch's steps for one rank: its graphs (local indices with `costs`)
/// shuffled and packed into exactly `n_steps` steps, in shuffled step order.
Bins plan_epoch_steps(const std::vector<int64_t>& costs, int64_t n_steps, uint64_t seed,
                      int64_t epoch, int rank);

}  // namespace hepgnn::data
