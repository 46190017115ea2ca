// The fused edge update (Note [Fused edge update]) against the composed ops it replaces.
#include <ATen/Parallel.h>

#include <map>
#include <string>

#include "model_test_util.hpp"
#include "models/fused_edge_update.hpp"
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
    torch::Tensor x, e;
};

/// An edge net of `layers` blocks on a 400-node graph with `edges` edges (not a multiple of the
/// 256-edge chunks), with node and edge states away from zero.
Case make_case(int64_t layers, Activation activation, int64_t edges) {
    Case c{mlp(3 * kH, kH, layers, activation, /*layer_norm=*/true),
           random_graph(400, edges, 17),
           {},
           {}};
    torch::manual_seed(11);
    c.x = torch::randn({400, kH});
    c.e = torch::randn({edges, kH});
    // LayerNorm starts at gamma 1, beta 0; other values test that they are used.
    torch::NoGradGuard no_grad;
    for (const auto& norm : c.net->norms()) {
        norm->weight.uniform_(0.5, 1.5);
        norm->bias.uniform_(-0.3, 0.3);
    }
    return c;
}

template <typename Forward>
Result run(Case& c, Forward forward) {
    c.net->zero_grad();
    auto x = c.x.clone().requires_grad_(true);
    auto e = c.e.clone().requires_grad_(true);
    Result r;
    r.out = forward(x, e);
    torch::manual_seed(5);
    (r.out * torch::randn_like(r.out)).sum().backward();
    r.out = r.out.detach();
    r.grads["x"] = x.grad();
    r.grads["e"] = e.grad();
    for (const auto& p : c.net->named_parameters()) r.grads[p.key()] = p.value().grad().clone();
    return r;
}

Result fused(Case& c) {
    return run(c, [&](const torch::Tensor& x, const torch::Tensor& e) {
        return fused_edge_update(*c.net, x, e, c.graph.index);
    });
}

Result composed(Case& c) {
    return run(c, [&](const torch::Tensor& x, const torch::Tensor& e) {
        const auto& w = c.net->first_linear()->weight;
        return e + c.net->after_first_linear(edge_linear(w, {}, x, c.graph.index, e));
    });
}

class FusedEdgeUpdate : public ::testing::TestWithParam<std::tuple<int64_t, Activation>> {
protected:
    void SetUp() override {
        if (!ops::panel_matmul_supported(kH)) GTEST_SKIP() << "no AVX-512: the op does not apply";
    }
};

// The same products and layer norms in the same order: the output, and the gradients of x, e,
// the biases and the layer norms are bit-identical; the weight gradients sum their row blocks
// in other groups and agree to rounding.
TEST_P(FusedEdgeUpdate, EqualsTheComposedOps) {
    const auto& [layers, activation] = GetParam();
    auto c = make_case(layers, activation, 3001);
    ASSERT_TRUE(fused_edge_update_applies(*c.net, c.x, c.e));
    const auto f = fused(c);
    const auto ref = composed(c);
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

INSTANTIATE_TEST_SUITE_P(LayersAndActivations, FusedEdgeUpdate,
                         ::testing::Combine(::testing::Values(1, 2, 3),
                                            ::testing::Values(Activation::relu, Activation::tanh,
                                                              Activation::silu)));

TEST(FusedEdgeUpdateThreads, GradientsAreBitIdenticalForOneAndTwoThreads) {
    if (!ops::panel_matmul_supported(kH)) GTEST_SKIP() << "no AVX-512: the op does not apply";
    const int saved = at::get_num_threads();
    auto c = make_case(2, Activation::relu, 5000);
    at::set_num_threads(1);
    const auto one = fused(c);
    at::set_num_threads(2);
    const auto two = fused(c);
    at::set_num_threads(saved);
    EXPECT_TRUE(bit_identical(one.out, two.out));
    for (const auto& [name, grad] : one.grads)
        EXPECT_TRUE(bit_identical(grad, two.grads.at(name))) << name;
}

TEST(FusedEdgeUpdateApplies, OnlyToFloat32CpuEdgeNetsWithLayerNorm) {
    auto c = make_case(2, Activation::relu, 300);
    EXPECT_EQ(fused_edge_update_applies(*c.net, c.x, c.e), ops::panel_matmul_supported(kH));
    EXPECT_FALSE(fused_edge_update_applies(*c.net, c.x.to(torch::kFloat64), c.e));
    EXPECT_FALSE(fused_edge_update_applies(*c.net, c.x.narrow(1, 0, 32), c.e));
    auto plain = mlp(3 * kH, kH, 2, Activation::relu, /*layer_norm=*/false);
    EXPECT_FALSE(fused_edge_update_applies(*plain, c.x, c.e));
}

}  // namespace
}  // namespace hepgnn::models
