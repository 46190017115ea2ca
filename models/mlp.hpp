// The multilayer perceptron every model is built from (DESIGN §3.3).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace hepgnn::models {

enum class Activation { relu, tanh, silu };

/// "relu" | "tanh" | "silu"; otherwise hepgnn::Error naming `key` (the config key).
Activation parse_activation(const std::string& name, const std::string& key = "model.activation");
std::vector<std::string> activation_names();
torch::Tensor apply_activation(Activation activation, const torch::Tensor& x);

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
class MlpImpl : public torch::nn::Module {
public:
    explicit MlpImpl(MlpOptions options);

    torch::Tensor forward(const torch::Tensor& x);
    /// Everything after the first Linear: forward(x) == after_first_linear(first_linear(x)).
    /// Lets a caller compute the first Linear another way (Note [Split linear]). z must be a
    /// temporary that no one else reads (and whose producer's backward does not need it): the
    /// activation may run in place on it.
    torch::Tensor after_first_linear(torch::Tensor z);

    torch::nn::Linear& first_linear() { return linears_.front(); }
    const std::vector<torch::nn::Linear>& linears() const { return linears_; }
    const MlpOptions& options() const { return options_; }

private:
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
