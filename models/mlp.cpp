#include "models/mlp.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace hepgnn::models {

std::vector<std::string> activation_names() {
    return {"relu", "tanh", "silu"};
}

Activation parse_activation(const std::string& name, const std::string& key) {
    if (name == "relu") return Activation::relu;
    if (name == "tanh") return Activation::tanh;
    if (name == "silu") return Activation::silu;
    HEPGNN_FAIL("{}: unknown activation '{}'; expected one of: {}", key, name,
                fmt::join(activation_names(), ", "));
}

torch::Tensor apply_activation(Activation activation, const torch::Tensor& x) {
    switch (activation) {
        case Activation::relu:
            return torch::relu(x);
        case Activation::tanh:
            return torch::tanh(x);
        case Activation::silu:
            return torch::silu(x);
    }
    HEPGNN_INTERNAL_CHECK(false, "unhandled activation {}", static_cast<int>(activation));
    return {};
}

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
    const bool last = block + 1 == linears_.size();
    if (last && !options_.output_activation) return z;
    if (options_.layer_norm) z = norms_[block]->forward(z);
    // z is a fresh Linear or LayerNorm output that no backward needs (Linear and LayerNorm
    // save their inputs), so relu and tanh, whose backward needs only their result, run in
    // place: one [rows, H] tensor less to allocate and to keep for backward. silu's backward
    // needs its input.
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
    for (size_t i = 1; i < linears_.size(); ++i) z = finish_block(i, linears_[i]->forward(z));
    return z;
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
    return after_first_linear(linears_.front()->forward(x));
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
