// Note [bfloat16 products]: the bfloat16 panel kernel against a float64 reference on the same
// rounded inputs, and the interaction network's bfloat16 inference against its float32 one.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <vector>

#include "model_test_util.hpp"
#include "models/interaction_network.hpp"
#include "models/ops/panel_matmul.hpp"

namespace hepgnn::models {
namespace {

float rounded_to_bf16(float f) {
    return torch::tensor({f}).to(torch::kBFloat16).to(torch::kFloat32).item<float>();
}

TEST(Bfloat16Inference, PanelKernelMatchesAFloat64ReferenceOfTheRoundedInputs) {
    if (!ops::cpu_has_avx512_bf16()) {
        EXPECT_FALSE(ops::bf16_panel_supported(64, 64));
        return;  // the run-time check below refuses --bf16 here instead
    }
    for (const int64_t k : {64, 192}) {
        const int64_t rows = 37, n = 128;  // rows: 6 full blocks of 6 and a tail of 1
        torch::manual_seed(k);
        const auto a = torch::randn({rows, k});
        const auto b = torch::randn({k, n});
        ASSERT_TRUE(ops::bf16_panel_supported(k, n));
        std::vector<uint16_t> packed(static_cast<size_t>(ops::bf16_packed_size(k, n)));
        ops::pack_bf16_pairs(b.data_ptr<float>(), k, n, packed.data());
        auto c = torch::empty({rows, n});
        ops::panel_matmul_bf16(a.data_ptr<float>(), rows, k, packed.data(), n, c.data_ptr<float>());
        // torch's own bfloat16 rounding (nearest even) of both inputs, products in float64.
        const auto ref = torch::mm(a.to(torch::kBFloat16).to(torch::kFloat64),
                                   b.to(torch::kBFloat16).to(torch::kFloat64));
        const auto scale = torch::mm(a.abs().to(torch::kFloat64), b.abs().to(torch::kFloat64));
        const double err = ((c.to(torch::kFloat64) - ref).abs() / scale).max().item<double>();
        EXPECT_LT(err, 1e-5) << "k " << k;  // float32 sums of exact bf16 products
        // and the rounding is real: unrounded float32 products differ by far more
        const double vs_fp32 =
            ((c - torch::mm(a, b)).abs().to(torch::kFloat64) / scale).max().item<double>();
        EXPECT_GT(vs_fp32, 1e-4) << "k " << k;
    }
    EXPECT_EQ(rounded_to_bf16(1.00390625f), 1.0f);  // a tie rounds to even
}

TEST(Bfloat16Inference, InteractionNetworkLogitsStayCloseToFloat32) {
    const auto graph = testing::random_graph(3000, 20000, 9);
    torch::manual_seed(4);
    InteractionNetwork model{ModelConfig{}};
    torch::NoGradGuard no_grad;
    const auto fp32 = model.forward(graph);
    ASSERT_TRUE(model.set_bfloat16_inference(true));
    if (!ops::cpu_has_avx512_bf16()) {
        EXPECT_THROW(model.forward(graph), c10::Error);
        return;
    }
    const auto bf16 = model.forward(graph);
    ASSERT_EQ(bf16.sizes(), fp32.sizes());
    const double max_diff = (bf16 - fp32).abs().max().item<double>();
    const double spread = fp32.std().item<double>();
    EXPECT_GT(max_diff, 0.0);                   // the products did run in bfloat16
    EXPECT_LT(max_diff, 0.05 * spread + 0.02);  // a few bf16 roundings, renormalized per layer
    // The edge decisions at a 0.5 cut (logit 0) barely move.
    const double flipped = ((bf16 > 0) != (fp32 > 0)).to(torch::kFloat64).mean().item<double>();
    EXPECT_LT(flipped, 0.01);
    ASSERT_TRUE(model.set_bfloat16_inference(false));
    EXPECT_TRUE(torch::equal(model.forward(graph), fp32));
}

}  // namespace
}  // namespace hepgnn::models
