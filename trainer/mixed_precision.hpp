// Mixed precision for the GPU path (training.precision): autocast of the forward pass to
// bfloat16 or float16, and dynamic loss scaling for float16.
//
// Note [Mixed precision]
// ~~~~~~~~~~~~~~~~~~~~~~
// Only AutocastScope touches the device: it switches torch's CUDA autocast on for the forward
// pass, so matrix products run in the low precision while LayerNorm, reductions and the loss
// stay in float32 (torch's autocast op lists); the parameters and the optimizer stay float32.
// The loss scaler is plain tensor arithmetic shared with the CPU, where the tests run it.
// float16 has 5 exponent bits, so small gradients underflow: the loss is multiplied by a scale
// before backward, the gradients are divided by it before clipping and the optimizer step, and
// a step whose gradients are not finite is skipped and the scale halved; after
// `growth_interval` good steps in a row the scale doubles. Gradients are allreduced (summed)
// before the check, so a non-finite value on any rank reaches all of them and every rank skips
// the same steps without another collective. bfloat16 has float32's exponent range and needs
// no scaling. On the CPU, training is float32: the CPU kernels (segment sums, the fused
// LayerNorm) are float32/float64 only, and torch 1.13's CPU autocast covers bfloat16 alone.
#pragma once

#include <string>
#include <vector>

#include <torch/types.h>

namespace hepgnn::trainer {

enum class Precision { float32, bfloat16, float16 };

/// "float32" | "bfloat16" | "float16"; otherwise hepgnn::Error naming `key`.
Precision parse_precision(const std::string& name, const std::string& key = "training.precision");
std::string to_string(Precision precision);

/// hepgnn::Error unless `precision` can run on `device` (low precision needs CUDA).
void check_precision_supported(Precision precision, const torch::Device& device);

/// CUDA autocast to the precision's dtype for the lifetime of the scope; nothing for float32.
/// Restores the previous autocast state on exit.
class AutocastScope {
public:
    AutocastScope(Precision precision, const torch::Device& device);
    ~AutocastScope();
    AutocastScope(const AutocastScope&) = delete;
    AutocastScope& operator=(const AutocastScope&) = delete;

private:
    bool active_ = false;
    bool was_enabled_ = false;
    c10::ScalarType previous_dtype_ = c10::ScalarType::Half;
};

class LossScaler {
public:
    struct Config {
        double initial_scale = 65536.0;  // 2^16, as torch.cuda.amp.GradScaler
        double growth_factor = 2.0;
        double backoff_factor = 0.5;
        int64_t growth_interval = 2000;  // good steps in a row before the scale grows
    };

    /// A disabled scaler has scale 1 and never skips a step (float32, bfloat16).
    explicit LossScaler(bool enabled, Config config);
    explicit LossScaler(bool enabled = false) : LossScaler(enabled, Config{}) {}

    double scale() const { return scale_; }
    /// Restores a scale saved with a checkpoint (ignored when disabled or not positive).
    void set_scale(double scale);

    torch::Tensor scale_loss(const torch::Tensor& loss) const;
    /// Divides every defined gradient of `params` by the scale. Returns whether all of them are
    /// finite; if not, the step must be skipped.
    bool unscale(const std::vector<torch::Tensor>& params) const;
    /// After each step: back off after a non-finite step, grow after enough good ones.
    void update(bool finite);
    int64_t skipped_steps() const { return skipped_; }

private:
    bool enabled_;
    Config config_;
    double scale_;
    int64_t good_steps_ = 0;
    int64_t skipped_ = 0;
};

}  // namespace hepgnn::trainer
