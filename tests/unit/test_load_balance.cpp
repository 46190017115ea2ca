#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include "data/load_balance.hpp"

using namespace hepgnn::data;

namespace {
// HEP.TrkX-like spread: 7k-53k edges per graph.
std::vector<int64_t> trkx_like_costs(int n, unsigned seed) {
    std::mt19937 rng(seed);
    std::lognormal_distribution<double> d(std::log(20000.0), 0.45);
    std::vector<int64_t> c;
    for (int i = 0; i < n; ++i) c.push_back(std::clamp<int64_t>(int64_t(d(rng)), 7000, 53000));
    return c;
}

void expect_partition(const Bins& bins, size_t n) {
    std::set<int64_t> seen;
    for (const auto& b : bins)
        for (int64_t i : b) EXPECT_TRUE(seen.insert(i).second) << "item " << i << " twice";
    EXPECT_EQ(seen.size(), n);
}
}  // namespace

TEST(LoadBalance, LongestFirstOn1000GraphsAnd8RanksIsWithinOnePercent) {
    const auto costs = trkx_like_costs(1000, 1);
    const auto lpt = pack_longest_first(costs, 8);
    expect_partition(lpt, costs.size());
    const auto s = balance_of(lpt, costs);
    EXPECT_LE(s.max_over_mean, 1.01);
    EXPECT_GE(s.min / s.mean, 0.99);
    // Contiguous chunks are clearly worse on the same graphs.
    EXPECT_GT(balance_of(pack_contiguous(costs, 8), costs).max_over_mean, s.max_over_mean);
}

TEST(LoadBalance, AssignmentIsDeterministic) {
    const auto costs = trkx_like_costs(300, 2);
    EXPECT_EQ(pack_longest_first(costs, 5), pack_longest_first(costs, 5));
}

TEST(LoadBalance, EpochStepsArePartitionsBalancedAndReshuffled) {
    const auto costs = trkx_like_costs(125, 3);  // one rank's share of 1000 over 8
    const auto a = plan_epoch_steps(costs, 25, 7, 0, 0);
    const auto b = plan_epoch_steps(costs, 25, 7, 1, 0);
    const auto c = plan_epoch_steps(costs, 25, 7, 0, 1);
    ASSERT_EQ(a.size(), 25u);
    expect_partition(a, costs.size());
    expect_partition(b, costs.size());
    EXPECT_NE(a, b);
    EXPECT_NE(a, c);
    EXPECT_EQ(a, plan_epoch_steps(costs, 25, 7, 0, 0));
    // Spread bounded by the largest graph.
    const auto s = balance_of(a, costs);
    EXPECT_LE(s.max - s.min, *std::max_element(costs.begin(), costs.end()));
}

// 1000 graphs, 8 ranks (longest-first shards); each rank plans its own
// steps. Returns max/mean over ranks of each step's edges.
std::vector<double> per_step_imbalance(int steps) {
    const auto costs = trkx_like_costs(1000, 4);
    const auto shards = pack_longest_first(costs, 8);
    std::vector<std::vector<int64_t>> per_rank_step(8, std::vector<int64_t>(steps));
    for (int r = 0; r < 8; ++r) {
        std::vector<int64_t> local;
        for (int64_t g : shards[r]) local.push_back(costs[g]);
        const auto plan = plan_epoch_steps(local, steps, 1, 0, r);
        for (int k = 0; k < steps; ++k)
            for (int64_t i : plan[k]) per_rank_step[r][k] += local[i];
    }
    std::vector<double> out;
    for (int k = 0; k < steps; ++k) {
        int64_t mx = 0, sum = 0;
        for (int r = 0; r < 8; ++r) {
            mx = std::max(mx, per_rank_step[r][k]);
            sum += per_rank_step[r][k];
        }
        out.push_back(double(mx) / (double(sum) / 8));
    }
    return out;
}

TEST(LoadBalance, PerStepImbalanceAcrossRanksIsAtMostFivePercent) {
    for (int steps : {5, 25}) {  // 25 and 5 graphs per rank and step
        const auto ratios = per_step_imbalance(steps);
        for (size_t k = 0; k < ratios.size(); ++k)
            EXPECT_LE(ratios[k], 1.05) << steps << " steps, step " << k;
    }
}
