#include "models/mlp.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "models/layer_norm_activation.hpp"
#include "models/row_blocked_matmul.hpp"

namespace hepgnn::models {

MlpImpl::MlpImpl(MlpOptions options) : options_(std::move(options)) {
    HEPGNN_INTERNAL_CHECK(options_.in > 0 && !options_.sizes.empty(),
                          "an MLP needs an input width and at least one layer (in = {}, {} layers)",
                          options_.in, options_.sizes.size());
    int64_t in = options_.in;
    const size_t n = options_.sizes.size();
    for (size_t i = 0; i < n; ++i) {
        const int64_t out = options_.sizes[i];
        HEPGNN_INTERNAL_CHECK(out > 0, "MLP layer {} has width {}", i, out);
        linears_.push_back(register_module(fmt::format("linear{}", i),
                                           torch::nn::Linear(torch::nn::LinearOptions(in, out))));
        const bool finished = i + 1 < n || options_.output_activation;
        if (options_.layer_norm && finished)
            norms_.push_back(
                register_module(fmt::format("norm{}", i),
                                torch::nn::LayerNorm(torch::nn::LayerNormOptions({out}))));
        in = out;
    }
}

torch::Tensor MlpImpl::finish_block(size_t block, torch::Tensor z) {
    const auto& bias = linears_[block]->bias;
    const bool last = block + 1 == linears_.size();
    if (last && !options_.output_activation) return z.add_(bias);
    if (options_.layer_norm) {
        const auto& norm = norms_[block];
        return layer_norm_activation(z, bias, norm->weight, norm->bias, options_.activation,
                                     norm->options.eps());
    }
    // z is a fresh product that no backward needs, so the bias is added in place, and relu
    // and tanh, whose backward needs only their result, run in place too: one [rows, H]
    // tensor less to allocate and to keep for backward. silu's backward needs its input.
    z.add_(bias);
    switch (options_.activation) {
        case Activation::relu:
            return z.relu_();
        case Activation::tanh:
            return z.tanh_();
        case Activation::silu:
            return torch::silu(z);
    }
    HEPGNN_INTERNAL_CHECK(false, "unhandled activation {}", static_cast<int>(options_.activation));
    return {};
}

torch::Tensor MlpImpl::after_first_linear(torch::Tensor z) {
    z = finish_block(0, std::move(z));
    for (size_t i = 1; i < linears_.size(); ++i)
        z = finish_block(i, row_blocked_matmul(z, linears_[i]->weight));
    return z;
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    return after_first_linear(row_blocked_matmul(x, linears_.front()->weight));
}

torch::Tensor MlpImpl::plain_forward(const torch::Tensor& x) {
    torch::Tensor z = x;
    for (size_t i = 0; i < linears_.size(); ++i) {
        z = linears_[i]->forward(z);
        if (i + 1 == linears_.size() && !options_.output_activation) break;
        if (options_.layer_norm) z = norms_[i]->forward(z);
        z = apply_activation(options_.activation, z);
    }
    return z;
}

Mlp mlp(int64_t in, int64_t hidden, int64_t n_layers, Activation activation, bool layer_norm) {
    MlpOptions o;
    o.in = in;
    o.sizes.assign(static_cast<size_t>(n_layers), hidden);
    o.activation = activation;
    o.layer_norm = layer_norm;
    o.output_activation = true;
    return Mlp(std::move(o));
}

}  // namespace hepgnn::models
