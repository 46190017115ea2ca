// Load-balance figures for README (issue: balanced load across ranks):
// 1000 graphs with a HEP.TrkX-like edge-count spread (log-normal around 20k,
// clipped to 7k-53k) on 8 ranks; shard balance for longest-first packing vs
// contiguous chunks, and per-step balance of the per-epoch step plans.
//
//   hepgnn_load_balance_report [n_graphs] [n_ranks] [steps_per_epoch]
//
// imbalance = max over ranks of edges / mean over ranks of edges (1.0 is perfect).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>

#include "data/load_balance.hpp"

using namespace hepgnn::data;

int main(int argc, char** argv) {
    const int n_graphs = argc > 1 ? std::atoi(argv[1]) : 1000;
    const int n_ranks = argc > 2 ? std::atoi(argv[2]) : 8;
    const int n_steps = argc > 3 ? std::atoi(argv[3]) : 5;
    std::mt19937 rng(2024);
    std::lognormal_distribution<double> size(std::log(20000.0), 0.45);
    std::vector<int64_t> edges;
    for (int i = 0; i < n_graphs; ++i)
        edges.push_back(std::clamp<int64_t>(static_cast<int64_t>(size(rng)), 7000, 53000));

    std::printf("%d graphs (edges min %lld, max %lld), %d ranks, %d steps per epoch\n", n_graphs,
                (long long)*std::min_element(edges.begin(), edges.end()),
                (long long)*std::max_element(edges.begin(), edges.end()), n_ranks, n_steps);
    std::printf("%-22s %12s %12s %12s %10s %10s\n", "shards", "min edges", "mean edges",
                "max edges", "max/mean", "min/mean");
    const auto print = [&](const char* name, const Bins& bins) {
        const auto s = balance_of(bins, edges);
        std::printf("%-22s %12lld %12.0f %12lld %10.4f %10.4f\n", name, (long long)s.min, s.mean,
                    (long long)s.max, s.max_over_mean, s.min / s.mean);
    };
    const Bins lpt = pack_longest_first(edges, n_ranks);
    print("longest-first (hepgnn)", lpt);
    print("contiguous chunks", pack_contiguous(edges, n_ranks));

    // Per-step balance across ranks: each rank plans its own shard's steps.
    std::printf("\n%-22s %14s %14s\n", "step plans", "mean max/mean", "worst max/mean");
    for (int variant = 0; variant < 2; ++variant) {
        const Bins shards = variant == 0 ? lpt : pack_contiguous(edges, n_ranks);
        std::vector<std::vector<int64_t>> load(n_ranks, std::vector<int64_t>(n_steps, 0));
        for (int r = 0; r < n_ranks; ++r) {
            std::vector<int64_t> local;
            for (int64_t g : shards[r]) local.push_back(edges[g]);
            const Bins plan = plan_epoch_steps(local, n_steps, 1, 0, r);
            for (int k = 0; k < n_steps; ++k)
                for (int64_t i : plan[k]) load[r][k] += local[i];
        }
        double sum_ratio = 0, worst = 0;
        for (int k = 0; k < n_steps; ++k) {
            int64_t mx = 0, total = 0;
            for (int r = 0; r < n_ranks; ++r) {
                mx = std::max(mx, load[r][k]);
                total += load[r][k];
            }
            const double ratio = double(mx) / (double(total) / n_ranks);
            sum_ratio += ratio;
            worst = std::max(worst, ratio);
        }
        std::printf("%-22s %14.4f %14.4f\n",
                    variant == 0 ? "longest-first shards" : "contiguous shards",
                    sum_ratio / n_steps, worst);
    }
    return 0;
}
