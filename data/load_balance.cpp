#include "data/load_balance.hpp"

#include <algorithm>
#include <numeric>
#include <queue>

#include "core/error.hpp"

namespace hepgnn::data {
namespace {

// The lightest bin (ties by index) in O(log n): a min-heap of (load, bin).
class LightestBin {
public:
    explicit LightestBin(int n) {
        for (int b = 0; b < n; ++b) heap_.push({0, b});
    }
    int take(int64_t cost) {
        auto [load, bin] = heap_.top();
        heap_.pop();
        heap_.push({load + cost, bin});
        return bin;
    }

private:
    using Entry = std::pair<int64_t, int>;
    std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap_;
};

void check_bins(int n_bins) {
    HEPGNN_INTERNAL_CHECK(n_bins >= 1, "packing into {} bins", n_bins);
}

// splitmix64: a tiny, fully specified generator (portable results).
uint64_t splitmix64(uint64_t& state) {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

}  // namespace

Bins pack_longest_first(const std::vector<int64_t>& costs, int n_bins) {
    check_bins(n_bins);
    std::vector<int64_t> order(costs.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return costs[a] > costs[b]; });
    Bins bins = pack_in_order(order, costs, n_bins);
    for (auto& b : bins) std::sort(b.begin(), b.end());
    return bins;
}

Bins pack_contiguous(const std::vector<int64_t>& costs, int n_bins) {
    check_bins(n_bins);
    Bins bins(static_cast<size_t>(n_bins));
    const auto n = static_cast<int64_t>(costs.size());
    for (int b = 0; b < n_bins; ++b)
        for (int64_t i = n * b / n_bins; i < n * (b + 1) / n_bins; ++i) bins[b].push_back(i);
    return bins;
}

Bins pack_in_order(const std::vector<int64_t>& order, const std::vector<int64_t>& costs,
                   int n_bins) {
    check_bins(n_bins);
    Bins bins(static_cast<size_t>(n_bins));
    LightestBin lightest(n_bins);
    for (int64_t i : order) bins[lightest.take(costs[i])].push_back(i);
    return bins;
}

BalanceStats balance_of(const Bins& bins, const std::vector<int64_t>& costs) {
    BalanceStats s;
    if (bins.empty()) return s;
    std::vector<int64_t> loads;
    for (const auto& b : bins) {
        int64_t load = 0;
        for (int64_t i : b) load += costs[i];
        loads.push_back(load);
    }
    s.min = *std::min_element(loads.begin(), loads.end());
    s.max = *std::max_element(loads.begin(), loads.end());
    s.mean = double(std::accumulate(loads.begin(), loads.end(), int64_t{0})) / loads.size();
    s.max_over_mean = s.mean > 0 ? s.max / s.mean : 1.0;
    return s;
}

std::vector<int64_t> shuffled_order(int64_t n, uint64_t seed, int64_t epoch, int rank) {
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    uint64_t state = seed * 0x100000001B3ull ^ (static_cast<uint64_t>(epoch) << 20) ^
                     static_cast<uint64_t>(rank) * 0x9E3779B97F4A7C15ull;
    for (int64_t i = n - 1; i > 0; --i) {  // Fisher-Yates
        const auto j = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(i + 1));
        std::swap(order[i], order[j]);
    }
    return order;
}

Bins plan_epoch_steps(const std::vector<int64_t>& costs, int64_t n_steps, uint64_t seed,
                      int64_t epoch, int rank) {
    HEPGNN_INTERNAL_CHECK(n_steps >= 1, "epoch of {} steps", n_steps);
    // Note [Randomised longest-first]: plain longest-first packing balances
    // steps best but gives the same batches every epoch; plain shuffled order
    // varies them but leaves steps uneven (spread up to one whole graph).
    // Sorting by cost times a random factor in [1-j, 1+j] keeps the
    // nearly-descending order that makes longest-first tight while the
    // batches change from epoch to epoch.
    constexpr double kJitter = 0.1;
    const auto n = static_cast<int64_t>(costs.size());
    const auto shuffled = shuffled_order(n, seed, epoch, rank);
    std::vector<double> key(static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k) {  // a rank-in-shuffle based factor: deterministic, portable
        const double u = n > 1 ? double(k) / double(n - 1) : 0.5;
        key[shuffled[k]] = double(costs[shuffled[k]]) * (1.0 - kJitter + 2.0 * kJitter * u);
    }
    std::vector<int64_t> order = shuffled;
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return key[a] > key[b]; });
    Bins steps = pack_in_order(order, costs, static_cast<int>(n_steps));
    // Steps in random order too (a different stream: epoch offset by 2^40).
    const auto step_order = shuffled_order(n_steps, seed, epoch + (int64_t{1} << 40), rank);
    Bins out;
    out.reserve(steps.size());
    for (int64_t s : step_order) out.push_back(std::move(steps[s]));
    return out;
}

}  // namespace hepgnn::data
