// Kernel and model-step benchmarks for models/ (Google Benchmark).
//
//   hepgnn_bench_models --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// ModelStep: one training step (forward, BCE loss, backward) of the default interaction network
// (DESIGN §3.3) on a layered random graph, with 2 and 1 intra-op threads; variants fast (the
// model's forward), fast+checkpointing and plain (plain_forward, the textbook formulation). Before
// timing, each benchmark checks that fast and plain logits agree (skips with an error if not).
// Counters: edges_per_s = E / (wall time of one step). ModelStepPair alternates fast and plain
// steps in one process and reports both medians and their ratio: the figure for issue #7.
//
// AgnnStep: one training step of HEP.TrkX's AGNN (H=64, tanh, 8 iterations, as its agnn.yaml)
// with sparse (gather + segment sums) and dense (Ri/Ro incidence matrices, bmm-style matmuls)
// message passing on the same graph: the dense-vs-sparse comparison of the HEP.TrkX talk. Run
// each variant in its own process (--benchmark_filter) to read its peak memory (peak_rss_mb).
//
// Every benchmark runs under the training allocator policy of hepgnn train (core/
// allocator_policy.hpp), for the fast and the plain variants alike.
//
// Kernels: segment_sum vs index_add_, gather_add vs index_select + add, the fused bias +
// LayerNorm + ReLU (forward and backward) vs torch's add + layer_norm + relu, and the
// row-blocked x W^T (forward and backward) vs torch::matmul, on [E, 64] float32.
// Counter GB_per_s = (bytes read + bytes written) / time, counting each value once:
//   segment_sum, index_add_:    (E*H read + N*H written) * 4 bytes
//   gather_add, index_select:   (2*E*H read + E*H written) * 4 bytes
//   layer norm + relu:          (z, y, dy, z read again, dz: 5*E*H) * 4 bytes
#include <ATen/Parallel.h>
#include <benchmark/benchmark.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <memory>

#include "core/allocator_policy.hpp"
#include "core/peak_memory.hpp"
#include "models/agnn.hpp"
#include "models/cpu_caching_allocator.hpp"
#include "models/graph_input.hpp"
#include "models/interaction_network.hpp"
#include "models/layer_norm_activation.hpp"
#include "models/row_blocked_matmul.hpp"
#include "models/segment_ops.hpp"

namespace {

using hepgnn::models::GraphInput;
using hepgnn::models::InteractionNetwork;
using hepgnn::models::ModelConfig;

/// Hits on 10 layers, edges between random hits of adjacent layers (in/out degree ~ E/N).
GraphInput layered_graph(int64_t n_nodes, int64_t n_edges, uint64_t seed = 1) {
    torch::manual_seed(seed);
    const int64_t layers = 10, per_layer = n_nodes / layers;
    auto layer = torch::randint(0, layers - 1, {n_edges}, torch::kInt64);
    auto senders = layer * per_layer + torch::randint(0, per_layer, {n_edges}, torch::kInt64);
    auto receivers =
        (layer + 1) * per_layer + torch::randint(0, per_layer, {n_edges}, torch::kInt64);
    return GraphInput::make(torch::randn({n_nodes, 3}), senders, receivers);
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

enum Variant { kFast = 0, kFastCheckpointing = 1, kPlain = 2 };

/// Before timing: the fast forms (differentiable, and fused for inference) and the plain form
/// must give the same logits (else skip with an error).
bool fast_matches_plain(InteractionNetwork& model, const GraphInput& graph,
                        benchmark::State& state) {
    torch::NoGradGuard no_grad;
    const auto plain = plain_forward(model, graph);
    for (const auto& fast : {model.differentiable_forward(graph), model.forward(graph)}) {
        if ((fast - plain).abs().max().item<float>() > 1e-4f) {
            state.SkipWithError("fast and plain logits differ");
            return false;
        }
    }
    return true;
}

void BM_ModelStep(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(3)));
    const auto variant = static_cast<Variant>(state.range(0));
    const auto graph = layered_graph(state.range(1), state.range(2));
    ModelConfig config;
    config.checkpointing = variant == kFastCheckpointing;
    torch::manual_seed(7);
    InteractionNetwork model{config};
    const auto labels = (torch::rand({graph.num_edges()}) < 0.1).to(torch::kFloat32);
    if (!fast_matches_plain(model, graph, state)) return;
    auto step = [&] {
        model.zero_grad();
        auto logits = variant == kPlain ? plain_forward(model, graph) : model.forward(graph);
        torch::binary_cross_entropy_with_logits(logits, labels).backward();
    };
    step();  // warm-up: first-touch allocations
    for (auto _ : state) step();
    state.counters["edges_per_s"] = benchmark::Counter(
        static_cast<double>(graph.num_edges()), benchmark::Counter::kIsIterationInvariantRate);
}

void step_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"variant", "nodes", "edges", "threads"});
    for (int threads : {2, 1})
        for (int v : {kFast, kFastCheckpointing, kPlain}) b->Args({v, 5000, 30000, threads});
    // Linear growth: 10x the graph (the plain form grows faster, DESIGN §4).
    for (int v : {kFast, kPlain}) b->Args({v, 50000, 300000, 2});
    // Not Iterations(1): each run repeats the set-up (graph, model, the fast-matches-plain check,
    // a warm-up step), and a profile of one step per run is half set-up. Timed for the minimum
    // time instead (0.5 s unless --benchmark_min_time says otherwise).
    b->UseRealTime()->Unit(benchmark::kMillisecond);
}
BENCHMARK(BM_ModelStep)->Apply(step_args);

/// Fast and plain steps alternated in one process, on one model and graph: the machines are
/// shared, and a slow spell then hits both sides of the ratio alike. Counters are medians over
/// the rounds: fast_ms, plain_ms, and plain_over_fast (the median of the per-round ratios).
/// Rounds: the `rounds` argument; which side runs first alternates between rounds.
void BM_ModelStepPair(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(2)));
    const auto graph = layered_graph(state.range(0), state.range(1));
    torch::manual_seed(7);
    InteractionNetwork model{ModelConfig{}};
    if (!fast_matches_plain(model, graph, state)) return;
    const auto labels = (torch::rand({graph.num_edges()}) < 0.1).to(torch::kFloat32);
    auto step = [&](bool plain) {
        const auto start = std::chrono::steady_clock::now();
        model.zero_grad();
        auto logits = plain ? plain_forward(model, graph) : model.forward(graph);
        torch::binary_cross_entropy_with_logits(logits, labels).backward();
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    };
    step(false);  // warm-up: first-touch allocations of both forms
    step(true);
    std::vector<double> fast, plain, ratio;
    for (auto _ : state) {
        for (int64_t round = 0; round < state.range(3); ++round) {
            const bool plain_first = round % 2 == 1;
            const double first = step(plain_first), second = step(!plain_first);
            fast.push_back(plain_first ? second : first);
            plain.push_back(plain_first ? first : second);
            ratio.push_back(plain.back() / fast.back());
        }
    }
    state.counters["fast_ms"] = median(fast);
    state.counters["plain_ms"] = median(plain);
    state.counters["plain_over_fast"] = median(ratio);
}
BENCHMARK(BM_ModelStepPair)
    ->ArgNames({"nodes", "edges", "threads", "rounds"})
    ->Args({5000, 30000, 2, 9})
    ->Args({5000, 30000, 1, 9})
    ->Args({50000, 300000, 2, 3})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

/// Inference (no-grad) forwards alternated in one process, as ModelStepPair: the fused inference
/// forward (what forward() runs without autograd, Note [Inference forward]) against the
/// differentiable forward under no-grad (what inference ran before) and plain_forward. Counters:
/// medians of fused_ms, differentiable_ms, plain_ms, and of the per-round ratios.
/// Milliseconds of time(v) for the variants v of one round after another, `rounds` rounds, the
/// variant that runs first rotating between rounds: ms[v][round].
std::vector<std::vector<double>> rotated_rounds(int variants, int64_t rounds,
                                                const std::function<double(int)>& time) {
    std::vector<std::vector<double>> ms(static_cast<size_t>(variants));
    for (int64_t round = 0; round < rounds; ++round)
        for (int k = 0; k < variants; ++k) {
            const int v = static_cast<int>((k + round) % variants);
            ms[static_cast<size_t>(v)].push_back(time(v));
        }
    return ms;
}

/// Median over rounds of ms[numerator][round] / ms[denominator][round].
double median_ratio(const std::vector<std::vector<double>>& ms, int numerator, int denominator) {
    std::vector<double> ratio;
    for (size_t r = 0; r < ms[0].size(); ++r)
        ratio.push_back(ms[static_cast<size_t>(numerator)][r] /
                        ms[static_cast<size_t>(denominator)][r]);
    return median(ratio);
}

void BM_InferencePair(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(2)));
    const auto graph = layered_graph(state.range(0), state.range(1));
    torch::manual_seed(7);
    InteractionNetwork model{ModelConfig{}};
    torch::NoGradGuard no_grad;
    if (!fast_matches_plain(model, graph, state)) return;
    auto time = [&](int variant) {
        const auto start = std::chrono::steady_clock::now();
        auto logits = variant == 0   ? model.forward(graph)
                      : variant == 1 ? model.differentiable_forward(graph)
                                     : plain_forward(model, graph);
        benchmark::DoNotOptimize(logits.data_ptr<float>());
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    };
    for (int v = 0; v < 3; ++v) time(v);  // warm-up: first-touch allocations
    std::vector<std::vector<double>> ms;
    for (auto _ : state) ms = rotated_rounds(3, state.range(3), time);
    state.counters["fused_ms"] = median(ms[0]);
    state.counters["differentiable_ms"] = median(ms[1]);
    state.counters["plain_ms"] = median(ms[2]);
    state.counters["differentiable_over_fused"] = median_ratio(ms, 1, 0);
    state.counters["plain_over_fused"] = median_ratio(ms, 2, 0);
}
/// Both inference pairs: a 1M-edge graph on 2 threads (5 rounds) and on 1 (3 rounds).
void inference_pair_args(benchmark::internal::Benchmark* b) {
    b->ArgNames({"nodes", "edges", "threads", "rounds"})
        ->Args({100000, 1000000, 2, 5})
        ->Args({100000, 1000000, 1, 3})
        ->Iterations(1)
        ->UseRealTime()
        ->Unit(benchmark::kSecond);
}
BENCHMARK(BM_InferencePair)->Apply(inference_pair_args);

/// The fused inference forward in float32 against the same with bfloat16 products (Note
/// [bfloat16 products]), alternated in one process as ModelStepPair. Counters: medians of
/// fp32_ms, bf16_ms and of the per-round fp32 / bf16 ratios, and the largest logit difference.
void BM_InferenceBf16Pair(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(2)));
    const auto graph = layered_graph(state.range(0), state.range(1));
    torch::manual_seed(7);
    InteractionNetwork model{ModelConfig{}};
    torch::NoGradGuard no_grad;
    torch::Tensor logits[2];
    auto time = [&](int variant) {
        model.set_bfloat16_inference(variant == 1);
        const auto start = std::chrono::steady_clock::now();
        logits[variant] = model.forward(graph);
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    };
    for (int v = 0; v < 2; ++v) time(v);  // warm-up: first-touch allocations
    std::vector<std::vector<double>> ms;
    for (auto _ : state) ms = rotated_rounds(2, state.range(3), time);
    state.counters["fp32_ms"] = median(ms[0]);
    state.counters["bf16_ms"] = median(ms[1]);
    state.counters["fp32_over_bf16"] = median_ratio(ms, 0, 1);
    state.counters["max_logit_diff"] = (logits[0] - logits[1]).abs().max().item<double>();
}
BENCHMARK(BM_InferenceBf16Pair)->Apply(inference_pair_args);

/// One inference forward alone, for profiles and peak memory: variant 0 the fused one (what
/// forward() runs under no-grad), 1 the differentiable one under no-grad.
void BM_InferenceForward(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(3)));
    const auto graph = layered_graph(state.range(1), state.range(2));
    torch::manual_seed(7);
    InteractionNetwork model{ModelConfig{}};
    torch::NoGradGuard no_grad;
    const bool fused = state.range(0) == 0;
    for (auto _ : state) {
        auto logits = fused ? model.forward(graph) : model.differentiable_forward(graph);
        benchmark::DoNotOptimize(logits.data_ptr<float>());
    }
    state.counters["peak_rss_mb"] = hepgnn::peak_rss_mb();
}
BENCHMARK(BM_InferenceForward)
    ->ArgNames({"variant", "nodes", "edges", "threads"})
    ->Args({0, 100000, 1000000, 2})
    ->Args({1, 100000, 1000000, 2})
    ->Args({0, 100000, 1000000, 1})
    ->Args({1, 100000, 1000000, 1})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

/// The counters of a whole-step benchmark: peak memory and edges per second.
void set_step_counters(benchmark::State& state, const GraphInput& graph) {
    state.counters["peak_rss_mb"] = hepgnn::peak_rss_mb();
    if (hepgnn::models::cpu_caching_allocator_installed()) {
        const auto cache = hepgnn::models::cpu_caching_allocator_stats();
        state.counters["cache_peak_mapped_mb"] =
            static_cast<double>(cache.peak_mapped_bytes) / (1 << 20);
        state.counters["cache_hits"] = static_cast<double>(cache.hits);
        state.counters["cache_misses"] = static_cast<double>(cache.misses);
    }
    state.counters["edges_per_s"] = benchmark::Counter(
        static_cast<double>(graph.num_edges()), benchmark::Counter::kIsIterationInvariantRate);
}

// One Adam step of the default interaction network (fast, with checkpointing) on a big graph:
// the HL-LHC memory figure (150k nodes, 1.35M edges).
void BM_BigGraphStep(benchmark::State& state) {
    at::set_num_threads(2);
    const auto graph = layered_graph(state.range(0), state.range(1));
    ModelConfig config;
    config.checkpointing = state.range(2) != 0;
    if (hepgnn::wants_caching_allocator(config.checkpointing))  // as hepgnn train does
        hepgnn::models::install_cpu_caching_allocator();
    torch::manual_seed(7);
    InteractionNetwork model{config};
    torch::optim::Adam adam(model.parameters(), torch::optim::AdamOptions(1e-3));
    const auto labels = (torch::rand({graph.num_edges()}) < 0.1).to(torch::kFloat32);
    auto step = [&] {
        adam.zero_grad();
        torch::binary_cross_entropy_with_logits(model.forward(graph), labels).backward();
        adam.step();
    };
    const auto start = std::chrono::steady_clock::now();
    step();  // cold: every page is faulted in (Adam's state too)
    state.counters["cold_step_s"] =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    for (auto _ : state) step();  // what each further step of a training run costs
    set_step_counters(state, graph);
}
BENCHMARK(BM_BigGraphStep)
    ->ArgNames({"nodes", "edges", "checkpointing"})
    ->Args({150000, 1350000, 1})
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

void BM_AgnnStep(benchmark::State& state) {
    at::set_num_threads(2);
    const auto graph = layered_graph(state.range(1), state.range(2));
    ModelConfig config;
    config.name = "agnn";
    config.activation = "tanh";
    config.message_passing = state.range(0) == 0 ? "sparse" : "dense";
    torch::manual_seed(7);
    hepgnn::models::Agnn model{config};
    const auto labels = (torch::rand({graph.num_edges()}) < 0.1).to(torch::kFloat32);
    auto step = [&] {
        model.zero_grad();
        torch::binary_cross_entropy_with_logits(model.forward(graph), labels).backward();
    };
    step();
    for (auto _ : state) step();
    set_step_counters(state, graph);
}
BENCHMARK(BM_AgnnStep)
    ->ArgNames({"dense", "nodes", "edges"})
    ->Args({0, 1000, 6000})
    ->Args({1, 1000, 6000})
    ->Args({0, 5000, 30000})
    ->Args({1, 5000, 30000})
    ->Iterations(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

constexpr int64_t kNodes = 20000, kEdges = 200000, kWidth = 64;

void BM_SegmentSum(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(0)));
    const auto g = layered_graph(kNodes, kEdges);
    const auto v = torch::randn({kEdges, kWidth});
    for (auto _ : state)
        benchmark::DoNotOptimize(hepgnn::models::segment_sum(v, g.index.by_receiver, kNodes));
    state.counters["GB_per_s"] = benchmark::Counter((kEdges + kNodes) * kWidth * 4.0,
                                                    benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_SegmentSum)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

void BM_IndexAdd(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(0)));
    const auto g = layered_graph(kNodes, kEdges);
    const auto v = torch::randn({kEdges, kWidth});
    for (auto _ : state)
        benchmark::DoNotOptimize(torch::zeros({kNodes, kWidth}).index_add_(0, g.receivers, v));
    state.counters["GB_per_s"] = benchmark::Counter((kEdges + kNodes) * kWidth * 4.0,
                                                    benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_IndexAdd)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

void BM_GatherAdd(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(0)));
    const auto g = layered_graph(kNodes, kEdges);
    const auto a = torch::randn({kNodes, kWidth}), b = torch::randn({kNodes, kWidth});
    for (auto _ : state) benchmark::DoNotOptimize(hepgnn::models::gather_add(a, b, g.index));
    state.counters["GB_per_s"] = benchmark::Counter(3.0 * kEdges * kWidth * 4.0,
                                                    benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_GatherAdd)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

void BM_IndexSelectAdd(benchmark::State& state) {
    at::set_num_threads(static_cast<int>(state.range(0)));
    const auto g = layered_graph(kNodes, kEdges);
    const auto a = torch::randn({kNodes, kWidth}), b = torch::randn({kNodes, kWidth});
    for (auto _ : state)
        benchmark::DoNotOptimize(a.index_select(0, g.senders) + b.index_select(0, g.receivers));
    state.counters["GB_per_s"] = benchmark::Counter(3.0 * kEdges * kWidth * 4.0,
                                                    benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_IndexSelectAdd)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// The tail of an MLP block (bias, LayerNorm, ReLU) forward and backward on [E, H] rows: the
// fused operation (Note [Fused layer norm]) against torch's add + layer_norm + relu.
void layer_norm_relu_step(benchmark::State& state, bool fused) {
    at::set_num_threads(static_cast<int>(state.range(0)));
    torch::manual_seed(1);
    const auto z = torch::randn({kEdges, kWidth}).requires_grad_(true);
    const auto bias = torch::randn({kWidth}).requires_grad_(true);
    const auto gamma = torch::ones({kWidth}).requires_grad_(true);
    const auto beta = torch::zeros({kWidth}).requires_grad_(true);
    const auto dy = torch::randn({kEdges, kWidth});
    using hepgnn::models::Activation;
    for (auto _ : state) {
        const auto y = fused
                           ? hepgnn::models::layer_norm_activation(z, bias, gamma, beta,
                                                                   Activation::relu, 1e-5)
                           : torch::relu(torch::layer_norm(z + bias, {kWidth}, gamma, beta, 1e-5));
        benchmark::DoNotOptimize(torch::autograd::grad({y}, {z, bias, gamma, beta}, {dy}));
    }
    state.counters["GB_per_s"] = benchmark::Counter(5.0 * kEdges * kWidth * 4.0,
                                                    benchmark::Counter::kIsIterationInvariantRate);
}
void BM_LayerNormRelu(benchmark::State& state) {
    layer_norm_relu_step(state, true);
}
void BM_TorchLayerNormRelu(benchmark::State& state) {
    layer_norm_relu_step(state, false);
}
BENCHMARK(BM_LayerNormRelu)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_TorchLayerNormRelu)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

// x W^T forward and backward (dx and dW) on [E, H] rows: the row-blocked panel product (Note
// [Row-blocked products]) against torch::matmul with OpenBLAS.
void matmul_step(benchmark::State& state, bool blocked) {
    at::set_num_threads(static_cast<int>(state.range(0)));
    torch::manual_seed(1);
    const auto x = torch::randn({kEdges, kWidth}).requires_grad_(true);
    const auto w = torch::randn({kWidth, kWidth}).requires_grad_(true);
    const auto dy = torch::randn({kEdges, kWidth});
    for (auto _ : state) {
        const auto y = blocked ? hepgnn::models::row_blocked_matmul(x, w) : torch::matmul(x, w.t());
        benchmark::DoNotOptimize(torch::autograd::grad({y}, {x, w}, {dy}));
    }
    state.counters["GFLOP_per_s"] = benchmark::Counter(
        3 * 2.0 * kEdges * kWidth * kWidth, benchmark::Counter::kIsIterationInvariantRate);
}
void BM_RowBlockedMatmul(benchmark::State& state) {
    matmul_step(state, true);
}
void BM_TorchMatmul(benchmark::State& state) {
    matmul_step(state, false);
}
BENCHMARK(BM_RowBlockedMatmul)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_TorchMatmul)->ArgName("threads")->Arg(1)->Arg(2)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
    hepgnn::apply_training_allocator_policy(argv);
    // HEPGNN_ALLOCATOR=cache: every benchmark on the caching allocator, as `hepgnn train` would.
    if (hepgnn::wants_caching_allocator(false)) hepgnn::models::install_cpu_caching_allocator();
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
