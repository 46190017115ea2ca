// The fused [bias, LayerNorm, activation] operation (Note [Fused layer norm]) against torch's
// composition and against finite differences.
#include <ATen/Parallel.h>

#include "core/error.hpp"
#include "model_test_util.hpp"
#include "models/layer_norm_activation.hpp"

namespace hepgnn::models {
namespace {

using testing::bit_identical;
using testing::expect_gradients_match_finite_differences;
using testing::scaled_error;

struct Inputs {
    torch::Tensor z, bias, gamma, beta;
    std::vector<torch::Tensor> leaves() const { return {z, bias, gamma, beta}; }
};

Inputs make_inputs(int64_t rows, int64_t h, torch::Dtype dtype, uint64_t seed) {
    torch::manual_seed(seed);
    auto opts = torch::TensorOptions().dtype(dtype).requires_grad(true);
    // Rows of different scales and offsets, as Linear outputs are; gamma and beta away from
    // their initial 1 and 0 so that their gradients matter.
    auto z = (torch::randn({rows, h}, dtype) * (torch::rand({rows, 1}, dtype) * 2 + 0.5) +
              torch::randn({rows, 1}, dtype))
                 .detach()
                 .requires_grad_(true);
    return {z, torch::randn({h}, opts), (torch::rand({h}, dtype) + 0.5).requires_grad_(true),
            torch::randn({h}, opts)};
}

std::string name_of(Activation a) {
    return activation_names()[static_cast<size_t>(a)];
}

class FusedLayerNorm : public ::testing::TestWithParam<Activation> {};

TEST_P(FusedLayerNorm, MatchesTorchInForwardAndGradients) {
    // 300 rows: one full block of column sums and a partial one; H = 13: a tail after the
    // 8-lane row sums. And the model's shape.
    for (auto [rows, h] : {std::pair<int64_t, int64_t>{300, 13}, {2000, 64}}) {
        for (bool with_bias : {true, false}) {
            SCOPED_TRACE(name_of(GetParam()) + " rows " + std::to_string(rows) + " h " +
                         std::to_string(h) + (with_bias ? " with bias" : " no bias"));
            const Inputs in = make_inputs(rows, h, torch::kFloat32, 7);
            const auto bias = with_bias ? in.bias : torch::Tensor();
            const auto fused =
                layer_norm_activation(in.z, bias, in.gamma, in.beta, GetParam(), 1e-5);
            const auto ref =
                layer_norm_activation_reference(in.z, bias, in.gamma, in.beta, GetParam(), 1e-5);
            EXPECT_LT(scaled_error(fused, ref), 1e-5);

            const auto weights = torch::randn_like(ref);
            const auto g_fused = torch::autograd::grad({(fused * weights).sum()}, in.leaves(), {},
                                                       false, false, true);
            const auto g_ref =
                torch::autograd::grad({(ref * weights).sum()}, in.leaves(), {}, false, false, true);
            for (size_t i = 0; i < g_ref.size(); ++i) {
                if (!with_bias && i == 1) {
                    EXPECT_FALSE(g_fused[i].defined());
                    continue;
                }
                ASSERT_TRUE(g_fused[i].defined()) << "input " << i;
                EXPECT_LT(scaled_error(g_fused[i], g_ref[i]), 1e-5) << "input " << i;
            }
        }
    }
}

TEST_P(FusedLayerNorm, GradientsMatchFiniteDifferences) {
    const Inputs in = make_inputs(37, 11, torch::kFloat64, 3);
    expect_gradients_match_finite_differences(
        [&] {
            return std::vector<torch::Tensor>{
                layer_norm_activation(in.z, in.bias, in.gamma, in.beta, GetParam(), 1e-5)};
        },
        in.leaves());
}

INSTANTIATE_TEST_SUITE_P(Activations, FusedLayerNorm,
                         ::testing::Values(Activation::relu, Activation::tanh, Activation::silu),
                         [](const auto& info) { return name_of(info.param); });

TEST(FusedLayerNormDeterminism, SameBitsForOneAndTwoThreads) {
    const int threads = at::get_num_threads();
    for (int64_t rows : {300, 4000, 5000, 30000}) {
        const Inputs in = make_inputs(rows, 64, torch::kFloat32, 5);
        const auto weights = torch::randn({rows, 64});
        auto run = [&](int n_threads) {
            at::set_num_threads(n_threads);
            auto y =
                layer_norm_activation(in.z, in.bias, in.gamma, in.beta, Activation::relu, 1e-5);
            auto grads = torch::autograd::grad({(y * weights).sum()}, in.leaves());
            grads.push_back(y.detach());
            return grads;
        };
        const auto one = run(1), two = run(2);
        at::set_num_threads(threads);
        for (size_t i = 0; i < one.size(); ++i)
            EXPECT_TRUE(bit_identical(one[i], two[i])) << i << " rows " << rows;
    }
}

TEST(FusedLayerNormErrors, WrongShapesAreReported) {
    const auto z = torch::randn({4, 8});
    const auto p = torch::ones({8});
    EXPECT_THROW(layer_norm_activation(torch::randn({8}), p, p, p, Activation::relu, 1e-5),
                 hepgnn::Error);
    EXPECT_THROW(layer_norm_activation(z, torch::ones({7}), p, p, Activation::relu, 1e-5),
                 hepgnn::Error);
    EXPECT_THROW(layer_norm_activation(z, p, torch::ones({9}), p, Activation::relu, 1e-5),
                 hepgnn::Error);
}

}  // namespace
}  // namespace hepgnn::models
