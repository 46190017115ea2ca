// The multilayer perceptron every model is built from (DESIGN §3.3).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

#include "models/model_options.hpp"

namespace hepgnn::models {

struct MlpOptions {
    int64_t in = 0;              // input width
    std::vector<int64_t> sizes;  // output width of each Linear, in order
    Activation activation = Activation::relu;
    bool layer_norm = true;         // LayerNorm after each Linear (before activation)
    bool output_activation = true;  // last block also gets [LayerNorm, activation];
                                    // false: the last Linear's output is returned raw
};

/// Blocks of [Linear, LayerNorm (optional), activation]. Submodules are named "linear<i>" and
/// "norm<i>" for block i (they key checkpoints; keep them stable).
///
/// forward() computes each block as a matrix product followed by one fused operation for the
/// bias, LayerNorm and activation (Note [Fused layer norm]); plain_forward() computes the same
/// function with torch::nn's Linear, LayerNorm and activation, the reference of tests and
/// benchmarks.
class MlpImpl : public torch::nn::Module {
public:
    explicit MlpImpl(MlpOptions options);

    torch::Tensor forward(const torch::Tensor& x);
    torch::Tensor plain_forward(const torch::Tensor& x);
    /// Everything after the first Linear's matrix product: forward(x) ==
    /// after_first_linear(x W0^T), with W0 = first_linear()->weight and the bias left out (it
    /// is added here). Lets a caller compute the product another way (Note [Split linear]). z
    /// must be a temporary that no one else reads (and whose producer's backward does not
    /// need it): the bias may be added to it in place.
    torch::Tensor after_first_linear(torch::Tensor z);

    torch::nn::Linear& first_linear() { return linears_.front(); }
    const std::vector<torch::nn::Linear>& linears() const { return linears_; }
    const MlpOptions& options() const { return options_; }
    /// The LayerNorm of each block that has one (all of them, with output_activation).
    const std::vector<torch::nn::LayerNorm>& norms() const { return norms_; }

private:
    /// Block `block` from its matrix product z (without bias).
    torch::Tensor finish_block(size_t block, torch::Tensor z);

    MlpOptions options_;
    std::vector<torch::nn::Linear> linears_;
    std::vector<torch::nn::LayerNorm> norms_;  // empty without layer norm; may be one short
};
TORCH_MODULE(Mlp);

/// mlp(in, H, L) of DESIGN §3.3: L blocks, the first Linear in->H, the others H->H, each
/// followed by LayerNorm (when layer_norm) and the activation.
Mlp mlp(int64_t in, int64_t hidden, int64_t n_layers, Activation activation, bool layer_norm);

}  // namespace hepgnn::models
