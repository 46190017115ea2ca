// The fused residual updates (Note [Fused residual updates]) against the composed ops they
// replace.
#include <ATen/Parallel.h>

#include <map>
#include <string>

#include "core/error.hpp"
#include "model_test_util.hpp"
#include "models/fused_residual_update.hpp"
#include "models/ops/panel_matmul.hpp"
#include "models/segment_ops.hpp"

namespace hepgnn::models {
namespace {

using testing::bit_identical;
using testing::random_graph;
using testing::scaled_error;

constexpr int64_t kH = 64;

struct Result {
    torch::Tensor out;
    std::map<std::string, torch::Tensor> grads;  // x, e and every parameter of the edge net
};

struct Case {
    Mlp net;
    GraphInput graph;
    torch::Tensor x, e, a_in, a_out;  // a_in, a_out: the node update's aggregations
};

/// A net of `layers` blocks taking `in` columns, on a 400-node graph with `edges` edges (not a
/// multiple of the 256-row chunks), with states away from zero.
Case make_case(int64_t layers, Activation activation, int64_t edges, int64_t in = 3 * kH,
               int64_t aggregate_width = kH) {
    Case c{mlp(in, kH, layers, activation, /*layer_norm=*/true), random_graph(400, edges, 17)};
    torch::manual_seed(11);
    c.x = torch::randn({400, kH});
    c.e = torch::randn({edges, kH});
    c.a_in = torch::randn({400, aggregate_width}) * 3;
    c.a_out = torch::randn({400, aggregate_width}) * 3;
    // LayerNorm starts at gamma 1, beta 0; other values test that they are used.
    torch::NoGradGuard no_grad;
    for (const auto& norm : c.net->norms()) {
        norm->weight.uniform_(0.5, 1.5);
        norm->bias.uniform_(-0.3, 0.3);
    }
    return c;
}

/// The inputs of one update, as leaves that require gradients.
using Inputs = std::map<std::string, torch::Tensor>;

template <typename Forward>
Result run(Case& c, const Inputs& given, Forward forward) {
    c.net->zero_grad();
    Inputs in;
    for (const auto& [name, t] : given) in[name] = t.clone().requires_grad_(true);
    Result r;
    r.out = forward(in);
    torch::manual_seed(5);
    (r.out * torch::randn_like(r.out)).sum().backward();
    r.out = r.out.detach();
    for (const auto& [name, t] : in) r.grads[name] = t.grad();
    for (const auto& p : c.net->named_parameters()) r.grads[p.key()] = p.value().grad().clone();
    return r;
}

Result fused_edge(Case& c) {
    return run(c, {{"x", c.x}, {"e", c.e}}, [&](Inputs& in) {
        return fused_edge_update(*c.net, in["x"], in["e"], c.graph.index, /*sums=*/false).e;
    });
}

Result composed_edge(Case& c) {
    return run(c, {{"x", c.x}, {"e", c.e}}, [&](Inputs& in) {
        const auto& w = c.net->first_linear()->weight;
        return in["e"] +
               c.net->after_first_linear(edge_linear(w, {}, in["x"], c.graph.index, in["e"]));
    });
}

/// e' and the sums of e' over receivers and senders, flattened into one tensor.
torch::Tensor flat(const torch::Tensor& e, const torch::Tensor& sum_in,
                   const torch::Tensor& sum_out) {
    return torch::cat({e.flatten(), sum_in.flatten(), sum_out.flatten()});
}

Result fused_edge_with_sums(Case& c) {
    return run(c, {{"x", c.x}, {"e", c.e}}, [&](Inputs& in) {
        const auto u = fused_edge_update(*c.net, in["x"], in["e"], c.graph.index, /*sums=*/true);
        return flat(u.e, u.sum_in, u.sum_out);
    });
}

Result composed_edge_with_sums(Case& c) {
    return run(c, {{"x", c.x}, {"e", c.e}}, [&](Inputs& in) {
        const auto& w = c.net->first_linear()->weight;
        auto e = in["e"] +
                 c.net->after_first_linear(edge_linear(w, {}, in["x"], c.graph.index, in["e"]));
        const auto [sum_in, sum_out] = segment_sum_in_out(e, c.graph.index);
        return flat(e, sum_in, sum_out);
    });
}

Inputs node_inputs(const Case& c) {
    return {{"x", c.x}, {"a_in", c.a_in}, {"a_out", c.a_out}};
}

Result fused_node(Case& c) {
    return run(c, node_inputs(c), [&](Inputs& in) {
        return fused_node_update(*c.net, in["x"], in["a_in"], in["a_out"]);
    });
}

Result composed_node(Case& c) {
    return run(c, node_inputs(c), [&](Inputs& in) {
        return in["x"] + c.net->forward(torch::cat({in["x"], in["a_in"], in["a_out"]}, 1));
    });
}

/// The same products and layer norms in the same order: the outputs, and the gradients of the
/// inputs, the biases and the layer norms are bit-identical; the weight gradients sum their
/// row blocks in other groups and agree to rounding.
void expect_equal(const Result& f, const Result& ref) {
    EXPECT_TRUE(bit_identical(f.out, ref.out)) << scaled_error(f.out, ref.out);
    ASSERT_EQ(f.grads.size(), ref.grads.size());
    for (const auto& [name, grad] : ref.grads) {
        ASSERT_TRUE(f.grads.at(name).defined()) << name;
        if (name.find("weight") != std::string::npos && name.find("linear") != std::string::npos)
            EXPECT_LE(scaled_error(f.grads.at(name), grad), 1e-5) << name;
        else
            EXPECT_TRUE(bit_identical(f.grads.at(name), grad))
                << name << ": " << scaled_error(f.grads.at(name), grad);
    }
}

class FusedUpdate : public ::testing::TestWithParam<std::tuple<int64_t, Activation>> {
protected:
    void SetUp() override {
        if (!ops::panel_matmul_supported(kH)) GTEST_SKIP() << "no AVX-512: the op does not apply";
    }
};

TEST_P(FusedUpdate, EdgeUpdateEqualsTheComposedOps) {
    const auto& [layers, activation] = GetParam();
    auto c = make_case(layers, activation, 3001);
    ASSERT_TRUE(fused_edge_update_applies(*c.net, c.x, c.e));
    expect_equal(fused_edge(c), composed_edge(c));
}

TEST_P(FusedUpdate, EdgeUpdateWithSumsEqualsTheComposedOps) {
    const auto& [layers, activation] = GetParam();
    auto c = make_case(layers, activation, 3001);
    expect_equal(fused_edge_with_sums(c), composed_edge_with_sums(c));
}

TEST_P(FusedUpdate, NodeUpdateEqualsTheComposedOps) {
    const auto& [layers, activation] = GetParam();
    auto c = make_case(layers, activation, 3001);
    ASSERT_TRUE(fused_node_update_applies(*c.net, c.x, c.a_in, c.a_out));
    expect_equal(fused_node(c), composed_node(c));
}

TEST(FusedNodeUpdate, TakesTheSumMaxAggregationsWidth) {
    if (!ops::panel_matmul_supported(kH)) GTEST_SKIP() << "no AVX-512: the op does not apply";
    auto c = make_case(2, Activation::relu, 300, 5 * kH, 2 * kH);  // [x | sum, max | sum, max]
    ASSERT_TRUE(fused_node_update_applies(*c.net, c.x, c.a_in, c.a_out));
    expect_equal(fused_node(c), composed_node(c));
}

INSTANTIATE_TEST_SUITE_P(LayersAndActivations, FusedUpdate,
                         ::testing::Combine(::testing::Values(1, 2, 3),
                                            ::testing::Values(Activation::relu, Activation::tanh,
                                                              Activation::silu)));

TEST(FusedUpdatesThreads, GradientsAreBitIdenticalForOneAndTwoThreads) {
    if (!ops::panel_matmul_supported(kH)) GTEST_SKIP() << "no AVX-512: the op does not apply";
    const int saved = at::get_num_threads();
    auto c = make_case(2, Activation::relu, 5000);
    for (auto* update : {&fused_edge, &fused_edge_with_sums, &fused_node}) {
        at::set_num_threads(1);
        const auto one = update(c);
        at::set_num_threads(2);
        const auto two = update(c);
        at::set_num_threads(saved);
        EXPECT_TRUE(bit_identical(one.out, two.out));
        for (const auto& [name, grad] : one.grads)
            EXPECT_TRUE(bit_identical(grad, two.grads.at(name))) << name;
    }
}

TEST(FusedUpdatesThreads, BigGraphsSumTheirWeightGradientsInFewerBlocks) {
    // 140,000 edges are 547 chunks: 3 a block (the cap of 256 blocks), where small graphs have 2.
    if (!ops::panel_matmul_supported(kH)) GTEST_SKIP() << "no AVX-512: the op does not apply";
    const int saved = at::get_num_threads();
    auto c = make_case(2, Activation::relu, 140000);
    at::set_num_threads(1);
    const auto one = fused_edge_with_sums(c);
    at::set_num_threads(2);
    const auto two = fused_edge_with_sums(c);
    at::set_num_threads(saved);
    for (const auto& [name, grad] : one.grads)
        EXPECT_TRUE(bit_identical(grad, two.grads.at(name))) << name;
    expect_equal(two, composed_edge_with_sums(c));
}

TEST(FusedUpdatesApply, OnlyToFloat32CpuNetsWithLayerNorm) {
    auto c = make_case(2, Activation::relu, 300);
    EXPECT_EQ(fused_edge_update_applies(*c.net, c.x, c.e), ops::panel_matmul_supported(kH));
    EXPECT_FALSE(fused_edge_update_applies(*c.net, c.x.to(torch::kFloat64), c.e));
    EXPECT_FALSE(fused_edge_update_applies(*c.net, c.x.narrow(1, 0, 32), c.e));
    auto plain = mlp(3 * kH, kH, 2, Activation::relu, /*layer_norm=*/false);
    EXPECT_FALSE(fused_edge_update_applies(*plain, c.x, c.e));
    EXPECT_EQ(fused_node_update_applies(*c.net, c.x, c.a_in, c.a_out),
              ops::panel_matmul_supported(kH));
    EXPECT_FALSE(fused_node_update_applies(*c.net, c.x, c.a_in.narrow(0, 0, 10), c.a_out));
    EXPECT_FALSE(fused_node_update_applies(*plain, c.x, c.a_in, c.a_out));
    // Empty graphs go to the composed ops, which return empty results.
    EXPECT_FALSE(fused_edge_update_applies(*c.net, c.x, c.e.narrow(0, 0, 0)));
    EXPECT_FALSE(fused_node_update_applies(*c.net, c.x.narrow(0, 0, 0), c.a_in.narrow(0, 0, 0),
                                           c.a_out.narrow(0, 0, 0)));
}

TEST(FusedUpdatesApply, NodeStatesOfAnotherGraphAreNamed) {
    auto c = make_case(2, Activation::relu, 300);
    if (!fused_edge_update_applies(*c.net, c.x, c.e)) GTEST_SKIP() << "no panel kernel";
    try {
        fused_edge_update(*c.net, c.x.narrow(0, 0, 399), c.e, c.graph.index, /*sums=*/false);
        ADD_FAILURE() << "expected a hepgnn::Error";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("x has 399 rows but the graph has 400 nodes"),
                  std::string::npos)
            << e.what();
    }
}

}  // namespace
}  // namespace hepgnn::models
