#include <ATen/Parallel.h>

#include "core/error.hpp"
#include "model_test_util.hpp"
#include "models/segment_ops.hpp"

namespace hepgnn::models {
namespace {

using testing::bit_identical;
using testing::expect_gradients_match_finite_differences;
using testing::random_graph;

TEST(GraphInput, CountingSortIsStableCsr) {
    // Edges: 0:(2->1) 1:(0->1) 2:(2->0) 3:(1->1) 4:(0->3); node 4 has no edge.
    auto g = GraphInput::make(torch::zeros({5, 3}), torch::tensor({2, 0, 2, 1, 0}),
                              torch::tensor({1, 1, 0, 1, 3}));
    const auto& in = g.index.by_receiver;
    const auto& out = g.index.by_sender;
    EXPECT_TRUE(torch::equal(in.rowptr, torch::tensor({0, 1, 4, 4, 5, 5}, torch::kInt64)));
    EXPECT_TRUE(torch::equal(in.perm, torch::tensor({2, 0, 1, 3, 4}, torch::kInt64)));
    EXPECT_TRUE(torch::equal(out.rowptr, torch::tensor({0, 2, 3, 5, 5, 5}, torch::kInt64)));
    EXPECT_TRUE(torch::equal(out.perm, torch::tensor({1, 4, 3, 0, 2}, torch::kInt64)));
    EXPECT_TRUE(torch::equal(in.node_of_edge, g.receivers));
    EXPECT_EQ(g.senders.scalar_type(), torch::kInt64);
}

TEST(GraphInput, AcceptsInt32IndicesAndRejectsBadInput) {
    auto g = GraphInput::make(torch::zeros({3, 2}), torch::tensor({0, 1}, torch::kInt32),
                              torch::tensor({1, 2}, torch::kInt32));
    EXPECT_EQ(g.receivers.scalar_type(), torch::kInt64);
    EXPECT_EQ(g.num_edges(), 2);
    try {
        GraphInput::make(torch::zeros({3, 2}), torch::tensor({0, 3}), torch::tensor({1, 2}));
        FAIL() << "no error for an out-of-range sender";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("senders[1] = 3"), std::string::npos) << e.what();
    }
    EXPECT_THROW(GraphInput::make(torch::zeros({3, 2}), torch::tensor({0}), torch::tensor({1, 2})),
                 Error);
    EXPECT_THROW(GraphInput::make(torch::zeros({3, 2}), torch::tensor({0.0}), torch::tensor({1})),
                 Error);
    EXPECT_THROW(GraphInput::make(torch::zeros({3}), torch::tensor({0}), torch::tensor({1})),
                 Error);
}

class SegmentOps : public ::testing::Test {
protected:
    // 40 nodes (3 isolated), 300 edges crowding onto 1-2 hub receivers.
    GraphInput g = random_graph(40, 300, 7);
    int64_t n = g.num_nodes(), e = g.num_edges();
};

TEST_F(SegmentOps, SumMatchesIndexAdd) {
    auto v = torch::randn({e, 5});
    auto ref = torch::zeros({n, 5}).index_add_(0, g.receivers, v);
    auto out = segment_sum(v, g.index.by_receiver, n);
    EXPECT_TRUE(torch::allclose(out, ref, 1e-5, 1e-5));
    EXPECT_TRUE(torch::equal(out.slice(0, n - 3), torch::zeros({3, 5})));  // empty segments
    auto ref_out = torch::zeros({n, 5}).index_add_(0, g.senders, v);
    EXPECT_TRUE(torch::allclose(segment_sum(v, g.index.by_sender, n), ref_out, 1e-5, 1e-5));
}

TEST_F(SegmentOps, WideFloatRowsMatchTorch) {
    // 64-wide float rows take the specialised kernels (register sums, prefetching); a graph
    // large enough that prefetches run past its last edge too.
    auto big = random_graph(500, 5000, 11);
    const int64_t nb = big.num_nodes(), eb = big.num_edges();
    auto v = torch::randn({eb, 64});
    EXPECT_TRUE(torch::allclose(segment_sum(v, big.index.by_receiver, nb),
                                torch::zeros({nb, 64}).index_add_(0, big.receivers, v), 1e-5,
                                1e-5));
    EXPECT_TRUE(torch::allclose(segment_sum(v, big.index.by_sender, nb),
                                torch::zeros({nb, 64}).index_add_(0, big.senders, v), 1e-5, 1e-5));
    auto a = torch::randn({nb, 64}), b = torch::randn({nb, 64});
    auto ref = a.index_select(0, big.senders) + b.index_select(0, big.receivers);
    EXPECT_TRUE(torch::equal(gather_add(a, b, big.index), ref));
    EXPECT_TRUE(torch::equal(gather_add(a, b, big.index, v), ref + v));
}

TEST_F(SegmentOps, SumInOutEqualsTheTwoSegmentSums) {
    auto v = torch::randn({e, 6});
    const auto [in, out] = segment_sum_in_out(v, g.index);
    EXPECT_TRUE(torch::equal(in, segment_sum(v, g.index.by_receiver, n)));
    EXPECT_TRUE(torch::equal(out, segment_sum(v, g.index.by_sender, n)));
    EXPECT_THROW(segment_sum_in_out(torch::randn({e + 1, 6}), g.index), Error);
}

TEST_F(SegmentOps, MaxMatchesScatterReduce) {
    auto v = torch::randn({e, 4});
    auto ref = torch::zeros({n, 4}).scatter_reduce(0, g.receivers.unsqueeze(1).expand_as(v), v,
                                                   "amax", /*include_self=*/false);
    auto out = segment_max(v, g.index.by_receiver, n);
    EXPECT_TRUE(torch::equal(out, ref));
    EXPECT_TRUE(torch::equal(out.slice(0, n - 3), torch::zeros({3, 4})));
}

TEST_F(SegmentOps, MaxRoutesGradientToFirstMaximum) {
    // Node 0 receives edges 0, 1, 2 with values 1, 3, 3: the tie goes to edge 1.
    auto t =
        GraphInput::make(torch::zeros({2, 1}), torch::tensor({1, 1, 1}), torch::tensor({0, 0, 0}));
    auto v = torch::tensor({{1.0}, {3.0}, {3.0}}, torch::requires_grad());
    auto out = segment_max(v, t.index.by_receiver, 2);
    out.sum().backward();
    EXPECT_TRUE(torch::equal(out, torch::tensor({{3.0}, {0.0}})));
    EXPECT_TRUE(torch::equal(v.grad(), torch::tensor({{0.0}, {1.0}, {0.0}})));
}

TEST_F(SegmentOps, GatherAddMatchesIndexSelect) {
    auto a = torch::randn({n, 6}), b = torch::randn({n, 6}), c = torch::randn({e, 6});
    auto ref = a.index_select(0, g.senders) + b.index_select(0, g.receivers);
    EXPECT_TRUE(torch::allclose(gather_add(a, b, g.index), ref));
    EXPECT_TRUE(torch::allclose(gather_add(a, b, g.index, c), ref + c));
    EXPECT_TRUE(torch::equal(gather_rows(a, g.index.by_sender), a.index_select(0, g.senders)));
}

TEST_F(SegmentOps, EdgeLinearEqualsLinearOnConcatenation) {
    auto x = torch::randn({n, 5}), c = torch::randn({e, 4});
    auto w = torch::randn({7, 14}), bias = torch::randn({7});
    auto cat = torch::cat({x.index_select(0, g.senders), x.index_select(0, g.receivers), c}, 1);
    EXPECT_TRUE(torch::allclose(edge_linear(w, bias, x, g.index, c), torch::addmm(bias, cat, w.t()),
                                1e-4, 1e-5));
    EXPECT_THROW(edge_linear(w, bias, x, g.index), Error);  // 14 columns, input has 10
}

TEST_F(SegmentOps, RejectsMismatchedShapes) {
    EXPECT_THROW(segment_sum(torch::randn({e + 1, 2}), g.index.by_receiver, n), Error);
    EXPECT_THROW(segment_sum(torch::randn({e, 2}), g.index.by_receiver, n + 1), Error);
    EXPECT_THROW(segment_sum(torch::randn({e}), g.index.by_receiver, n), Error);
    EXPECT_THROW(segment_sum(torch::randint(0, 3, {e, 2}), g.index.by_receiver, n), Error);
    EXPECT_THROW(gather_add(torch::randn({n, 2}), torch::randn({n, 3}), g.index), Error);
}

// ---- gradients against central differences, float64 --------------------------------------

class SegmentGradients : public ::testing::Test {
protected:
    GraphInput g = random_graph(12, 60, 11, 3, torch::kFloat64, 2);
    int64_t n = g.num_nodes(), e = g.num_edges();
    torch::TensorOptions opts = torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true);
};

TEST_F(SegmentGradients, SegmentSum) {
    auto v = torch::randn({e, 3}, opts);
    expect_gradients_match_finite_differences(
        [&] {
            return std::vector<torch::Tensor>{segment_sum(v, g.index.by_receiver, n),
                                              segment_sum(v, g.index.by_sender, n)};
        },
        {v});
}

TEST_F(SegmentGradients, SegmentSumInOut) {
    auto v = torch::randn({e, 3}, opts);
    expect_gradients_match_finite_differences(
        [&] {
            auto [in, out] = segment_sum_in_out(v, g.index);
            return std::vector<torch::Tensor>{in, out * 0.5};
        },
        {v});
    // Only one of the outputs used: the other gradient counts as zero.
    expect_gradients_match_finite_differences(
        [&] { return std::vector<torch::Tensor>{segment_sum_in_out(v, g.index).second}; }, {v});
}

TEST_F(SegmentGradients, SegmentSumSecondOrder) {
    // segment_sum and gather_rows are each other's backward, so they differentiate twice:
    // with y = <segment_sum(v)^2, w>, grad_v y = gather_rows(2 w segment_sum(v)) depends on v
    // through both ops; check d/dv <grad_v y, u> against central differences.
    auto v = torch::randn({e, 2}, opts);
    auto w = torch::randn({n, 2}, torch::kFloat64), u = torch::randn({e, 2}, torch::kFloat64);
    expect_gradients_match_finite_differences(
        [&] {
            torch::AutoGradMode grad(true);
            auto y = (segment_sum(v, g.index.by_receiver, n).pow(2) * w).sum();
            auto gv = torch::autograd::grad({y}, {v}, {}, true, true)[0];
            return std::vector<torch::Tensor>{(gv * u).sum()};
        },
        {v}, 1e-6, 1e-5, 1e-4);
}

TEST_F(SegmentGradients, SegmentMax) {
    // Distinct values far apart, so no difference step crosses a tie.
    auto v = (torch::randperm(e * 3, torch::kFloat64).reshape({e, 3}) * 0.1).requires_grad_(true);
    expect_gradients_match_finite_differences(
        [&] {
            return std::vector<torch::Tensor>{segment_max(v, g.index.by_receiver, n),
                                              segment_max(v, g.index.by_sender, n)};
        },
        {v});
}

TEST_F(SegmentGradients, GatherRows) {
    auto x = torch::randn({n, 3}, opts);
    expect_gradients_match_finite_differences(
        [&] { return std::vector<torch::Tensor>{gather_rows(x, g.index.by_receiver)}; }, {x});
}

TEST_F(SegmentGradients, GatherAdd) {
    auto a = torch::randn({n, 4}, opts), b = torch::randn({n, 4}, opts),
         c = torch::randn({e, 4}, opts);
    expect_gradients_match_finite_differences(
        [&] {
            return std::vector<torch::Tensor>{gather_add(a, b, g.index, c),
                                              gather_add(b, a, g.index) * 0.5};
        },
        {a, b, c});
}

TEST_F(SegmentGradients, EdgeLinear) {
    auto x = torch::randn({n, 3}, opts), c = torch::randn({e, 2}, opts);
    auto w = torch::randn({4, 8}, opts), bias = torch::randn({4}, opts);
    expect_gradients_match_finite_differences(
        [&] {
            return std::vector<torch::Tensor>{torch::tanh(edge_linear(w, bias, x, g.index, c))};
        },
        {x, c, w, bias});
}

TEST_F(SegmentGradients, OffCpuFormulationsAgreeWithTheKernels) {
    // The GPU path uses fallback::*; run it on the CPU against the kernels, values and
    // gradients (distinct values, so max has no ties).
    auto v = (torch::randperm(e * 3, torch::kFloat64).reshape({e, 3}) * 0.1).requires_grad_(true);
    auto x = torch::randn({n, 3}, opts), y = torch::randn({n, 3}, opts);
    auto run = [&](bool kernels) {
        std::vector<torch::Tensor> outs;
        if (kernels) {
            outs = {segment_sum(v, g.index.by_receiver, n), segment_max(v, g.index.by_sender, n),
                    gather_rows(x, g.index.by_sender), gather_add(x, y, g.index, v)};
        } else {
            outs = {fallback::segment_sum(v, g.index.by_receiver, n),
                    fallback::segment_max(v, g.index.by_sender, n),
                    fallback::gather_rows(x, g.index.by_sender),
                    fallback::gather_add(x, y, g.index, v)};
        }
        torch::manual_seed(1);
        torch::Tensor loss = torch::zeros({}, torch::kFloat64);
        for (auto& o : outs) loss = loss + (o * torch::randn_like(o)).sum();
        auto grads = torch::autograd::grad({loss}, {v, x, y});
        for (auto& o : outs) grads.push_back(o.detach());
        return grads;
    };
    auto kernels = run(true), reference = run(false);
    for (size_t i = 0; i < kernels.size(); ++i)
        EXPECT_TRUE(torch::allclose(kernels[i], reference[i], 1e-12, 1e-12)) << "result " << i;
}

TEST(SegmentDeterminism, SameBitsForOneAndTwoThreads) {
    auto g = random_graph(2000, 40000, 3);
    auto v = torch::randn({g.num_edges(), 64});
    const int threads = at::get_num_threads();
    at::set_num_threads(1);
    auto one = segment_sum(v, g.index.by_receiver, g.num_nodes());
    auto one_max = segment_max(v, g.index.by_receiver, g.num_nodes());
    at::set_num_threads(2);
    auto two = segment_sum(v, g.index.by_receiver, g.num_nodes());
    auto two_max = segment_max(v, g.index.by_receiver, g.num_nodes());
    at::set_num_threads(threads);
    EXPECT_TRUE(bit_identical(one, two));
    EXPECT_TRUE(bit_identical(one_max, two_max));
}

}  // namespace
}  // namespace hepgnn::models
