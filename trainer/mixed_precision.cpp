#include "trainer/mixed_precision.hpp"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>

#include "core/error.hpp"

namespace hepgnn::trainer {

Precision parse_precision(const std::string& name, const std::string& key) {
    if (name == "float32") return Precision::float32;
    if (name == "bfloat16") return Precision::bfloat16;
    if (name == "float16") return Precision::float16;
    HEPGNN_FAIL("{}: unknown precision '{}'; expected one of: float32, bfloat16, float16", key,
                name);
}

std::string to_string(Precision precision) {
    switch (precision) {
        case Precision::float32:
            return "float32";
        case Precision::bfloat16:
            return "bfloat16";
        case Precision::float16:
            return "float16";
    }
    return "?";
}

void check_precision_supported(Precision precision, const torch::Device& device) {
    HEPGNN_CHECK(precision == Precision::float32 || device.is_cuda(),
                 "training.precision: {} needs training.device: cuda (autocast runs on GPUs; "
                 "CPU training is float32, Note [Mixed precision]); set training.precision: "
                 "float32",
                 to_string(precision));
}

AutocastScope::AutocastScope(Precision precision, const torch::Device& device) {
    if (precision == Precision::float32) return;
    check_precision_supported(precision, device);
    active_ = true;
    was_enabled_ = at::autocast::is_enabled();
    previous_dtype_ = at::autocast::get_autocast_gpu_dtype();
    at::autocast::set_autocast_gpu_dtype(precision == Precision::bfloat16 ? at::kBFloat16
                                                                          : at::kHalf);
    at::autocast::set_enabled(true);
    at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
    if (!active_) return;
    // Leaving the outermost scope frees the casts autocast cached for this forward pass.
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_enabled(was_enabled_);
    at::autocast::set_autocast_gpu_dtype(previous_dtype_);
}

LossScaler::LossScaler(bool enabled, Config config)
    : enabled_(enabled), config_(config), scale_(enabled ? config.initial_scale : 1.0) {
    HEPGNN_INTERNAL_CHECK(config_.initial_scale > 0 && config_.growth_factor >= 1 &&
                              config_.backoff_factor > 0 && config_.backoff_factor < 1 &&
                              config_.growth_interval > 0,
                          "invalid loss scaler config");
}

void LossScaler::set_scale(double scale) {
    if (enabled_ && scale > 0) scale_ = scale;
}

torch::Tensor LossScaler::scale_loss(const torch::Tensor& loss) const {
    return enabled_ ? loss * scale_ : loss;
}

bool LossScaler::unscale(const std::vector<torch::Tensor>& params) const {
    if (!enabled_) return true;
    torch::NoGradGuard no_grad;
    bool finite = true;
    const double inverse = 1.0 / scale_;
    for (const auto& p : params) {
        auto g = p.grad();
        if (!g.defined()) continue;
        g.mul_(inverse);
        // One reduction per tensor: isfinite().all() is false for inf and NaN alike.
        if (finite && !torch::isfinite(g).all().item<bool>()) finite = false;
    }
    return finite;
}

void LossScaler::update(bool finite) {
    if (!enabled_) return;
    if (!finite) {
        scale_ *= config_.backoff_factor;
        good_steps_ = 0;
        ++skipped_;
        return;
    }
    if (++good_steps_ >= config_.growth_interval) {
        scale_ *= config_.growth_factor;
        good_steps_ = 0;
    }
}

}  // namespace hepgnn::trainer
