// Track building methods and matching on one large synthetic event graph: 150k
// hits on 10 layers, 1.35M edges between adjacent layers (10% true), scores
// drawn like a good classifier's (efficiency ~98%, purity ~97% at cut 0.5).
// Requirement: connected components < 50 ms on one core; the other methods
// (Note [Track building methods] in pipeline/track_building.cpp) show their
// cost next to it. Every 10th particle leaves a double hit on each layer
// (a second hit beside its first, joined like it), so walkthrough_doubles
// has pairs to find.
//
//   hepgnn_bench_tracks --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <random>
#include <utility>

#include "pipeline/track_building.hpp"
#include "pipeline/track_matching.hpp"

using namespace hepgnn::pipeline;

namespace {

constexpr int kLayers = 10;
constexpr int kHitsPerLayer = 15000;  // one hit per particle and layer: 15k particles
constexpr int kEdgesPerHit = 10;      // per hit of layers 0..8: 1 true + 9 fake
constexpr int kWindow = 40;           // fakes join hits this close in phi order
constexpr int kDoubleEvery = 10;      // every 10th particle has a double hit on each layer

struct SyntheticEvent {
    int64_t n_hits = 0;
    std::vector<int32_t> senders, receivers;
    std::vector<float> scores;
    std::vector<int64_t> particle_id;
    std::vector<float> pt, eta;
    std::vector<int64_t> layer;  // per hit
    int64_t n_true = 0;
};

float sigmoid(double x) {
    return static_cast<float>(1.0 / (1.0 + std::exp(-x)));
}

// Hits of a layer are in phi order; particle k sits near position k on every
// layer (a few places of jitter), so true and fake edges are both local, as
// in real graphs built with |dphi/dr| cuts. Edges are grouped by sender.
SyntheticEvent make_event() {
    std::mt19937_64 rng(2024);
    SyntheticEvent ev;
    ev.n_hits = int64_t{kLayers} * kHitsPerLayer;
    std::vector<std::vector<int32_t>> particle_at(kLayers);  // layer, position -> particle
    std::vector<std::vector<int32_t>> position_of(kLayers);  // layer, particle -> position
    for (int l = 0; l < kLayers; ++l) {
        auto& at = particle_at[l];
        at.resize(kHitsPerLayer);
        for (int k = 0; k < kHitsPerLayer; ++k) at[k] = k;
        for (int k = 0; k + 1 < kHitsPerLayer; ++k)  // local jitter
            if (rng() % 3 == 0) std::swap(at[k], at[k + 1]);
        position_of[l].resize(kHitsPerLayer);
        for (int k = 0; k < kHitsPerLayer; ++k) position_of[l][at[k]] = k;
    }
    std::lognormal_distribution<double> pt_dist(0.0, 0.8);
    std::uniform_real_distribution<double> eta_dist(-4.0, 4.0);
    std::vector<float> particle_pt(kHitsPerLayer), particle_eta(kHitsPerLayer);
    for (int k = 0; k < kHitsPerLayer; ++k) {
        particle_pt[k] = static_cast<float>(pt_dist(rng));
        particle_eta[k] = static_cast<float>(eta_dist(rng));
    }
    for (int l = 0; l < kLayers; ++l)
        for (int k = 0; k < kHitsPerLayer; ++k) {
            const int32_t p = particle_at[l][k];
            ev.particle_id.push_back(p + 1);
            ev.pt.push_back(particle_pt[p]);
            ev.eta.push_back(particle_eta[p]);
        }

    std::normal_distribution<double> true_logit(4.0, 2.0), fake_logit(-6.0, 2.2);
    std::uniform_int_distribution<int> offset(-kWindow, kWindow);
    const size_t n_edges = size_t{kLayers - 1} * kHitsPerLayer * kEdgesPerHit;
    ev.senders.reserve(n_edges);
    ev.receivers.reserve(n_edges);
    ev.scores.reserve(n_edges);
    for (int l = 0; l + 1 < kLayers; ++l)
        for (int k = 0; k < kHitsPerLayer; ++k) {
            const int32_t s = l * kHitsPerLayer + k;
            const int32_t next = (l + 1) * kHitsPerLayer;
            const int32_t p = particle_at[l][k];
            for (int j = 0; j < kEdgesPerHit; ++j) {
                int32_t r;
                float score;
                if (j == 0) {
                    r = next + position_of[l + 1][p];
                    score = sigmoid(true_logit(rng));
                    ++ev.n_true;
                } else {
                    r = next + std::clamp(k + offset(rng), 0, kHitsPerLayer - 1);
                    score = sigmoid(fake_logit(rng));
                }
                ev.senders.push_back(s);
                ev.receivers.push_back(r);
                ev.scores.push_back(score);
            }
        }
    for (int l = 0; l < kLayers; ++l)
        for (int k = 0; k < kHitsPerLayer; ++k) ev.layer.push_back(l);

    // Double hits: hit `double_of(p, l)` beside particle p's hit on layer l,
    // joined to p's hits (and doubles) on the neighbouring layers.
    const int64_t n_single = ev.n_hits;
    const auto hit_of = [&](int p, int l) { return l * kHitsPerLayer + position_of[l][p]; };
    const auto double_of = [&](int p, int l) {
        return static_cast<int32_t>(n_single + (p / kDoubleEvery) * kLayers + l);
    };
    for (int p = 0; p < kHitsPerLayer; p += kDoubleEvery)
        for (int l = 0; l < kLayers; ++l) {
            ev.particle_id.push_back(p + 1);
            ev.pt.push_back(particle_pt[p]);
            ev.eta.push_back(particle_eta[p]);
            ev.layer.push_back(l);
            ++ev.n_hits;
        }
    for (int p = 0; p < kHitsPerLayer; p += kDoubleEvery)
        for (int l = 0; l + 1 < kLayers; ++l) {
            const int32_t a = hit_of(p, l), b = hit_of(p, l + 1);
            const int32_t da = double_of(p, l), db = double_of(p, l + 1);
            for (auto [s, r] : {std::pair{da, b}, std::pair{a, db}, std::pair{da, db}}) {
                ev.senders.push_back(s);
                ev.receivers.push_back(r);
                ev.scores.push_back(sigmoid(true_logit(rng)));
                ++ev.n_true;
            }
        }
    return ev;
}

const SyntheticEvent& event() {
    static const SyntheticEvent ev = make_event();
    return ev;
}

void build_bench(benchmark::State& state, const char* method) {
    const auto& ev = event();
    TrackBuildingConfig config;
    config.method = method;
    TrackBuilder builder(config);
    const auto n_edges = static_cast<int64_t>(ev.senders.size());
    TrackCandidates t;
    for (auto _ : state) {
        t = builder.build(ev.n_hits, ev.senders.data(), ev.receivers.data(), ev.scores.data(),
                          n_edges, ev.layer.data());
        benchmark::DoNotOptimize(t.labels.data());
    }
    // Self-check (STYLE §13): a good classifier's scores must give about one
    // candidate per particle and a high efficiency.
    const auto m = match_tracks({}, t.labels, ev.particle_id, ev.pt, ev.eta);
    if (m.n_candidates < kHitsPerLayer / 2 || m.track_efficiency() < 0.5)
        state.SkipWithError("implausible candidates: track building is broken");
    state.counters["hits"] = static_cast<double>(ev.n_hits);
    state.counters["edges"] = static_cast<double>(n_edges);
    state.counters["candidates"] = static_cast<double>(t.n_candidates);
    state.counters["track_eff"] = m.track_efficiency();
    state.counters["fake_rate"] = m.fake_rate();
    state.counters["dup_rate"] = m.duplicate_rate();
    // unassigned = hits in no candidate / hits (a chain keeps one hit of a double)
    state.counters["unassigned"] =
        static_cast<double>(std::count(t.labels.begin(), t.labels.end(), kUnassigned)) /
        static_cast<double>(ev.n_hits);
    // edges_per_s = edges per call / CPU time per call
    state.counters["edges_per_s"] = benchmark::Counter(
        static_cast<double>(n_edges), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_ConnectedComponents(benchmark::State& state) {
    build_bench(state, "components");
}
void BM_JunctionRemoval(benchmark::State& state) {
    build_bench(state, "junction_removal");
}
void BM_Walkthrough(benchmark::State& state) {
    build_bench(state, "walkthrough");
}
void BM_WalkthroughDoubles(benchmark::State& state) {
    build_bench(state, "walkthrough_doubles");
}

void BM_MatchTracks(benchmark::State& state) {
    const auto& ev = event();
    TrackBuilder builder(TrackBuildingConfig{});
    const auto t =
        builder.build(ev.n_hits, ev.senders.data(), ev.receivers.data(), ev.scores.data(),
                      static_cast<int64_t>(ev.senders.size()), ev.layer.data());
    for (auto _ : state) {
        auto m = match_tracks({}, t.labels, ev.particle_id, ev.pt, ev.eta);
        benchmark::DoNotOptimize(m.n_reconstructed);
    }
    state.counters["hits"] = static_cast<double>(ev.n_hits);
}

}  // namespace

BENCHMARK(BM_ConnectedComponents)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_JunctionRemoval)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Walkthrough)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WalkthroughDoubles)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MatchTracks)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
