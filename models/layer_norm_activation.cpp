#include "models/layer_norm_activation.hpp"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.hpp"
#include "models/ops/row_math.hpp"
#include "models/ops/vector_clones.hpp"

namespace hepgnn::models {
namespace {

using ops::activate;
using ops::row_dot;
using ops::row_sum;
using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---- kernels: CPU, contiguous [rows, H] (Note [Fused layer norm]) -------------------------------

using layer_norm_rows::kBlockRows;
using layer_norm_rows::Operands;

/// d act / d p at the pre-activation p (tanh and silu; relu's backward is a select).
template <Activation A, typename T>
__attribute__((always_inline)) inline T derivative(T p) {
    static_assert(A != Activation::relu, "relu's backward is a select (backward_kernel)");
    if constexpr (A == Activation::tanh) {
        const T y = std::tanh(p);
        return T(1) - y * y;
    } else {
        const T s = T(1) / (T(1) + std::exp(-p));
        return s * (T(1) + p * (T(1) - s));
    }
}

// Rows are short (H = 64), so the kernels are compute-bound in cache: they are compiled for
// AVX-512 and AVX2 as well as the baseline (HEPGNN_VECTOR_CLONES). Inner loops are free of
// branches (bias is never null: a zero row stands in for a missing one) so that they vectorize.

// W > 0: rows of exactly W values (the model's width, 64), known at compile time, which lets
// the compiler unroll the row loops and keep a row in registers; W = 0: any width o.h.

template <Activation A, int64_t W, typename T>
HEPGNN_VECTOR_CLONES void forward_rows(const Operands<T>& o, T eps, int64_t lo, int64_t hi) {
    const int64_t h = W > 0 ? W : o.h;
    const T inv_h = T(1) / static_cast<T>(h);
    const T* __restrict gamma = o.gamma, * __restrict beta = o.beta, * __restrict bias = o.bias;
    for (int64_t r = lo; r < hi; ++r) {
        const T* __restrict zr = o.z + r * h;
        T* __restrict yr = o.y + r * h;
        for (int64_t d = 0; d < h; ++d) yr[d] = zr[d] + bias[d];
        const T mean = row_sum(yr, h) * inv_h;
        for (int64_t d = 0; d < h; ++d) yr[d] -= mean;
        const T rstd = T(1) / std::sqrt(row_dot(yr, yr, h) * inv_h + eps);
        for (int64_t d = 0; d < h; ++d) yr[d] = activate<A>(yr[d] * rstd * gamma[d] + beta[d]);
        o.mean[r] = mean;
        o.rstd[r] = rstd;
    }
}

/// Writes dz for the rows of blocks [block_lo, block_hi) and each block's partial column sums
/// partial[block] = {dgamma[h], dbeta[h], dbias[h]}. scratch: 3h values.
template <Activation A, int64_t W, typename T>
HEPGNN_VECTOR_CLONES void backward_blocks(const Operands<T>& o, int64_t block_lo, int64_t block_hi,
                                          T* scratch) {
    const int64_t h = W > 0 ? W : o.h;
    const T inv_h = T(1) / static_cast<T>(h);
    const T* __restrict gamma = o.gamma, * __restrict beta = o.beta, * __restrict bias = o.bias;
    T* __restrict xhat = scratch;
    T* __restrict g = scratch + h;       // dy * act'
    T* __restrict gg = scratch + 2 * h;  // g * gamma
    for (int64_t block = block_lo; block < block_hi; ++block) {
        T* __restrict dgamma = o.partial + block * 3 * h;
        T* __restrict dbeta = dgamma + h;
        T* __restrict dbias = dbeta + h;
        std::fill(dgamma, dgamma + 3 * h, T(0));
        const int64_t row_end = std::min(o.rows, (block + 1) * kBlockRows);
        for (int64_t r = block * kBlockRows; r < row_end; ++r) {
            const T* __restrict zr = o.z + r * h;
            const T* __restrict dyr = o.dy + r * h;
            T* __restrict dzr = o.dz + r * h;
            const T m = o.mean[r], s = o.rstd[r];
            for (int64_t d = 0; d < h; ++d) xhat[d] = (zr[d] + bias[d] - m) * s;
            // The pre-activation is recomputed, in the forward's order, rather than the output
            // kept: backward then needs no [rows, H] tensor of the forward but z.
            if constexpr (A == Activation::relu) {
                // A select of two loaded values, which vectorizes; the signs are random, so a
                // branch would be mispredicted half the time. Gives 0 where y = 0, as torch's
                // threshold_backward.
                for (int64_t d = 0; d < h; ++d) {
                    const T dv = dyr[d];
                    g[d] = xhat[d] * gamma[d] + beta[d] > T(0) ? dv : T(0);
                }
            } else {
                for (int64_t d = 0; d < h; ++d)
                    g[d] = dyr[d] * derivative<A>(xhat[d] * gamma[d] + beta[d]);
            }
            HEPGNN_IVDEP  // the rows of partial and of scratch never overlap
                for (int64_t d = 0; d < h; ++d) {
                dgamma[d] += g[d] * xhat[d];
                dbeta[d] += g[d];
                gg[d] = g[d] * gamma[d];
            }
            const T mean_gg = row_sum(gg, h) * inv_h;
            const T mean_ggx = row_dot(gg, xhat, h) * inv_h;
            HEPGNN_IVDEP
            for (int64_t d = 0; d < h; ++d) {
                const T v = s * (gg[d] - mean_gg - xhat[d] * mean_ggx);
                dzr[d] = v;
                dbias[d] += v;
            }
        }
    }
}

/// f(activation, width) with both as compile-time constants (width 64, or 0 for any other).
template <typename F>
void dispatch(Activation activation, int64_t h, F&& f) {
    auto with_width = [&](auto a) {
        if (h == 64) return f(a, std::integral_constant<int64_t, 64>{});
        f(a, std::integral_constant<int64_t, 0>{});
    };
    switch (activation) {
        case Activation::relu:
            return with_width(std::integral_constant<Activation, Activation::relu>{});
        case Activation::tanh:
            return with_width(std::integral_constant<Activation, Activation::tanh>{});
        case Activation::silu:
            return with_width(std::integral_constant<Activation, Activation::silu>{});
    }
    HEPGNN_INTERNAL_CHECK(false, "unhandled activation {}", static_cast<int>(activation));
}

template <typename T>
void forward_kernel(const Operands<T>& o, Activation activation, T eps) {
    dispatch(activation, o.h, [&](auto a, auto w) {
        at::parallel_for(0, o.rows, std::max<int64_t>(1, 32768 / o.h), [&](int64_t lo, int64_t hi) {
            forward_rows<decltype(a)::value, decltype(w)::value>(o, eps, lo, hi);
        });
    });
}

template <typename T>
void backward_kernel(const Operands<T>& o, Activation activation) {
    const int64_t grain = std::max<int64_t>(1, 32768 / (kBlockRows * o.h));
    dispatch(activation, o.h, [&](auto a, auto w) {
        at::parallel_for(0, o.blocks(), grain, [&](int64_t lo, int64_t hi) {
            std::vector<T> scratch(3 * static_cast<size_t>(o.h));
            backward_blocks<decltype(a)::value, decltype(w)::value>(o, lo, hi, scratch.data());
        });
    });
}

}  // namespace

namespace layer_norm_rows {

void forward(const Operands<float>& o, Activation activation, float eps, int64_t lo, int64_t hi) {
    dispatch(activation, o.h, [&](auto a, auto w) {
        forward_rows<decltype(a)::value, decltype(w)::value>(o, eps, lo, hi);
    });
}

void backward(const Operands<float>& o, Activation activation, int64_t block_lo, int64_t block_hi,
              float* scratch) {
    dispatch(activation, o.h, [&](auto a, auto w) {
        backward_blocks<decltype(a)::value, decltype(w)::value>(o, block_lo, block_hi, scratch);
    });
}

}  // namespace layer_norm_rows

namespace {

// ---- autograd function
// ---------------------------------------------------------------------------

template <typename T>
Operands<T> operands(const Tensor& z, const Tensor& bias, const Tensor& gamma, const Tensor& beta,
                     const Tensor& y, const Tensor& mean, const Tensor& rstd) {
    Operands<T> o;
    o.rows = z.size(0);
    o.h = z.size(1);
    o.z = z.data_ptr<T>();
    o.bias = bias.data_ptr<T>();
    o.gamma = gamma.data_ptr<T>();
    o.beta = beta.data_ptr<T>();
    o.y = y.defined() ? y.data_ptr<T>() : nullptr;  // forward's output; backward has none
    o.mean = mean.data_ptr<T>();
    o.rstd = rstd.data_ptr<T>();
    return o;
}

struct LayerNormActivationFunction : torch::autograd::Function<LayerNormActivationFunction> {
    static Tensor forward(AutogradContext* ctx, const Tensor& z_in,
                          const c10::optional<Tensor>& bias, const Tensor& gamma,
                          const Tensor& beta, int64_t activation, double eps) {
        const Tensor z = z_in.contiguous();
        const int64_t rows = z.size(0), h = z.size(1);
        auto y = torch::empty_like(z);
        auto mean = torch::empty({rows}, z.options());
        auto rstd = torch::empty({rows}, z.options());
        const bool has_bias = bias && bias->defined();
        const Tensor bias_row = has_bias ? *bias : torch::zeros({h}, z.options());
        AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "hepgnn::layer_norm_activation", [&] {
            const auto o = operands<scalar_t>(z, bias_row, gamma, beta, y, mean, rstd);
            forward_kernel(o, static_cast<Activation>(activation), static_cast<scalar_t>(eps));
        });
        // Not y: backward recomputes the pre-activation from z (an [E, H] tensor less per layer
        // whose output nothing else keeps, as the last layer of an edge MLP).
        ctx->save_for_backward({z, bias_row, gamma, beta, mean, rstd});
        ctx->saved_data["activation"] = activation;
        ctx->saved_data["has_bias"] = has_bias;
        return y;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const Tensor& z = saved[0];
        const bool has_bias = ctx->saved_data["has_bias"].toBool();
        const auto activation = static_cast<Activation>(ctx->saved_data["activation"].toInt());
        const Tensor dy = grads[0].contiguous();
        const int64_t h = z.size(1);
        auto dz = torch::empty_like(z);
        auto sums = torch::empty({3, h}, z.options());  // dgamma, dbeta, dbias
        AT_DISPATCH_FLOATING_TYPES(z.scalar_type(), "hepgnn::layer_norm_activation_backward", [&] {
            auto o =
                operands<scalar_t>(z, saved[1], saved[2], saved[3], Tensor(), saved[4], saved[5]);
            auto partial = torch::empty({o.blocks(), 3, h}, z.options());
            o.dy = dy.data_ptr<scalar_t>();
            o.dz = dz.data_ptr<scalar_t>();
            o.partial = partial.data_ptr<scalar_t>();
            backward_kernel(o, activation);
            // Not torch's sum(0), which may split the blocks by thread count.
            ops::sum_in_block_order(o.partial, o.blocks(), 3 * h, sums.data_ptr<scalar_t>());
        });
        return {dz, has_bias ? sums[2] : Tensor(), sums[0], sums[1], Tensor(), Tensor()};
    }
};

void check_arguments(const Tensor& z, const Tensor& bias, const Tensor& gamma, const Tensor& beta) {
    HEPGNN_CHECK(z.defined() && z.dim() == 2,
                 "layer_norm_activation: z must be two-dimensional [rows, H], got {}",
                 z.defined() ? c10::str(z.sizes()) : "undefined");
    const int64_t h = z.size(1);
    for (const auto* t : {&gamma, &beta}) {
        HEPGNN_CHECK(t->defined() && t->dim() == 1 && t->size(0) == h,
                     "layer_norm_activation: LayerNorm weight and bias must be [{}]", h);
    }
    HEPGNN_CHECK(!bias.defined() || (bias.dim() == 1 && bias.size(0) == h),
                 "layer_norm_activation: bias must be [{}], got {}", h,
                 bias.defined() ? c10::str(bias.sizes()) : "undefined");
}

}  // namespace

Tensor apply_activation(Activation activation, const Tensor& x) {
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

Tensor layer_norm_activation_reference(const Tensor& z, const Tensor& bias, const Tensor& gamma,
                                       const Tensor& beta, Activation activation, double eps) {
    const auto v = bias.defined() ? z + bias : z;
    return apply_activation(activation, torch::layer_norm(v, {z.size(-1)}, gamma, beta, eps));
}

Tensor layer_norm_activation(const Tensor& z, const Tensor& bias, const Tensor& gamma,
                             const Tensor& beta, Activation activation, double eps) {
    check_arguments(z, bias, gamma, beta);
    const bool same_type = gamma.scalar_type() == z.scalar_type() &&
                           beta.scalar_type() == z.scalar_type() &&
                           (!bias.defined() || bias.scalar_type() == z.scalar_type());
    const bool kernel_type = z.scalar_type() == torch::kFloat || z.scalar_type() == torch::kDouble;
    if (!z.is_cpu() || !kernel_type || !same_type || z.size(1) == 0)
        return layer_norm_activation_reference(z, bias, gamma, beta, activation, eps);
    return LayerNormActivationFunction::apply(
        z, bias.defined() ? c10::optional<Tensor>(bias.contiguous()) : c10::nullopt,
        gamma.contiguous(), beta.contiguous(), static_cast<int64_t>(activation), eps);
}

}  // namespace hepgnn::models
