// Loss scaling and the autocast switch of Note [Mixed precision], on the CPU.
#include <ATen/autocast_mode.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.hpp"
#include "trainer/mixed_precision.hpp"

namespace hepgnn::trainer {
namespace {

/// Parameters whose gradients are `grads` (the scaler reads and writes p.grad()).
std::vector<torch::Tensor> params_with_grads(const std::vector<torch::Tensor>& grads) {
    std::vector<torch::Tensor> params;
    for (const auto& g : grads) {
        auto p = torch::zeros_like(g).requires_grad_(true);
        p.mutable_grad() = g.clone();
        params.push_back(p);
    }
    return params;
}

TEST(LossScaler, DisabledIsTheIdentity) {
    LossScaler scaler(false);
    EXPECT_EQ(scaler.scale(), 1.0);
    const auto loss = torch::tensor(0.25);
    EXPECT_TRUE(torch::equal(scaler.scale_loss(loss), loss));
    auto params =
        params_with_grads({torch::tensor({3.0f, std::numeric_limits<float>::infinity()})});
    EXPECT_TRUE(scaler.unscale(params));  // float32/bfloat16 never skip a step
    scaler.update(false);
    EXPECT_EQ(scaler.scale(), 1.0);
    EXPECT_EQ(scaler.skipped_steps(), 0);
    EXPECT_EQ(params[0].grad()[0].item<float>(), 3.0f);
}

TEST(LossScaler, ScalesTheLossAndUnscalesGradientsExactly) {
    LossScaler scaler(true);
    EXPECT_EQ(scaler.scale(), 65536.0);
    EXPECT_EQ(scaler.scale_loss(torch::tensor(0.5)).item<double>(), 32768.0);
    const auto g = torch::randn({5, 3});
    auto params = params_with_grads({g * 65536.0, torch::ones({2}) * 65536.0});
    params.push_back(torch::zeros({4}).requires_grad_(true));  // no gradient: left alone
    EXPECT_TRUE(scaler.unscale(params));
    EXPECT_TRUE(torch::equal(params[0].grad(), g));  // a power of two: exact
    EXPECT_TRUE(torch::equal(params[1].grad(), torch::ones({2})));
    EXPECT_FALSE(params[2].grad().defined());
}

TEST(LossScaler, NonFiniteGradientsSkipTheStepAndHalveTheScale) {
    for (float bad : {std::numeric_limits<float>::infinity(), std::nanf("")}) {
        LossScaler scaler(true);
        auto params = params_with_grads({torch::ones({3}), torch::tensor({1.0f, bad})});
        EXPECT_FALSE(scaler.unscale(params)) << bad;
        scaler.update(false);
        EXPECT_EQ(scaler.scale(), 32768.0);
        EXPECT_EQ(scaler.skipped_steps(), 1);
    }
}

TEST(LossScaler, GrowsAfterAnIntervalOfGoodSteps) {
    LossScaler::Config c;
    c.initial_scale = 8;
    c.growth_interval = 3;
    LossScaler scaler(true, c);
    scaler.update(true);
    scaler.update(true);
    scaler.update(false);  // resets the run of good steps
    EXPECT_EQ(scaler.scale(), 4.0);
    scaler.update(true);
    scaler.update(true);
    EXPECT_EQ(scaler.scale(), 4.0);
    scaler.update(true);
    EXPECT_EQ(scaler.scale(), 8.0);
    scaler.set_scale(1024);  // from a checkpoint
    EXPECT_EQ(scaler.scale(), 1024.0);
}

TEST(Precision, ParsesNamesAndRejectsOthers) {
    EXPECT_EQ(parse_precision("bfloat16"), Precision::bfloat16);
    EXPECT_EQ(to_string(parse_precision("float16")), "float16");
    try {
        parse_precision("fp8");
        FAIL() << "no error for fp8";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("training.precision"), std::string::npos);
    }
}

TEST(AutocastScope, Float32IsANoOpAndLowPrecisionNeedsCuda) {
    const bool before = at::autocast::is_enabled();
    {
        AutocastScope scope(Precision::float32, torch::kCPU);
        EXPECT_EQ(at::autocast::is_enabled(), before);
    }
    for (auto p : {Precision::bfloat16, Precision::float16}) {
        try {
            AutocastScope scope(p, torch::kCPU);
            FAIL() << "no error for " << to_string(p) << " on the CPU";
        } catch (const Error& e) {
            EXPECT_NE(std::string(e.what()).find("needs training.device: cuda"), std::string::npos)
                << e.what();
        }
        EXPECT_EQ(at::autocast::is_enabled(), before);
    }
}

}  // namespace
}  // namespace hepgnn::trainer
