// Row arithmetic shared by the fused CPU kernels of models/ and models/ops/: sums and dot products
// of short rows (H = 64) with a fixed rounding, and the activations. Header-only and always
// inlined, so that each kernel clone (HEPGNN_VECTOR_CLONES) compiles them for its own target.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hepgnn::ops {

enum class Aggregation { sum, mean, max, sum_max };
enum class Activation { relu, tanh, silu };

/// The enum of a config name ("sum", "mean", "max", "sum_max"), or nothing: callers word the
/// error (models: hepgnn::Error naming the config key; the custom op: c10::Error).
inline std::optional<Aggregation> aggregation_from_name(std::string_view name) {
    if (name == "sum") return Aggregation::sum;
    if (name == "mean") return Aggregation::mean;
    if (name == "max") return Aggregation::max;
    if (name == "sum_max") return Aggregation::sum_max;
    return std::nullopt;
}

/// The enum of "relu", "tanh" or "silu", or nothing.
inline std::optional<Activation> activation_from_name(std::string_view name) {
    if (name == "relu") return Activation::relu;
    if (name == "tanh") return Activation::tanh;
    if (name == "silu") return Activation::silu;
    return std::nullopt;
}

/// out[i] = the sum of parts[k * n + i] over k < count, added in the order k = 0, 1, ...: block
/// partials of a column sum in a fixed order, so that gradients do not depend on how many
/// threads computed the blocks. No parts: zeros.
template <typename T>
__attribute__((always_inline)) inline void sum_in_block_order(const T* parts, int64_t count,
                                                              int64_t n, T* __restrict out) {
    if (count == 0) {
        std::fill(out, out + n, T(0));
        return;
    }
    std::copy(parts, parts + n, out);
    for (int64_t k = 1; k < count; ++k) {
        const T* __restrict p = parts + k * n;
        for (int64_t i = 0; i < n; ++i) out[i] += p[i];
    }
}

/// Gathers prefetch the rows of the edge this many ahead: a node's row lies anywhere in its
/// [N, width] tensor (in big graphs far outside the caches).
constexpr int64_t kPrefetchAhead = 4;

/// Prefetches every cache line of one row of `width` values.
template <typename T>
__attribute__((always_inline)) inline void prefetch_row(const T* row, int64_t width) {
    constexpr int64_t per_line = 64 / static_cast<int64_t>(sizeof(T));
    for (int64_t d = 0; d < width; d += per_line) __builtin_prefetch(row + d);
}

// Row sums use this many independent accumulators: the compiler can keep them in one vector
// register without reassociating floating-point additions (which it may not do on its own), and
// the rounding depends only on H.
constexpr int64_t kLanes = 8;

// Always inlined, so that they are compiled for the target of each kernel clone that uses them.
template <typename T>
__attribute__((always_inline)) inline T row_sum(const T* __restrict v, int64_t n) {
    T acc[kLanes] = {};
    int64_t d = 0;
    for (; d + kLanes <= n; d += kLanes)
        for (int64_t j = 0; j < kLanes; ++j) acc[j] += v[d + j];
    T s = 0;
    for (int64_t j = 0; j < kLanes; ++j) s += acc[j];
    for (; d < n; ++d) s += v[d];
    return s;
}

template <typename T>
__attribute__((always_inline)) inline T row_dot(const T* __restrict a, const T* __restrict b,
                                                int64_t n) {
    T acc[kLanes] = {};
    int64_t d = 0;
    for (; d + kLanes <= n; d += kLanes)
        for (int64_t j = 0; j < kLanes; ++j) acc[j] += a[d + j] * b[d + j];
    T s = 0;
    for (int64_t j = 0; j < kLanes; ++j) s += acc[j];
    for (; d < n; ++d) s += a[d] * b[d];
    return s;
}

template <Activation A, typename T>
__attribute__((always_inline)) inline T activate(T p) {
    if constexpr (A == Activation::relu) {
        return p < T(0) ? T(0) : p;  // a NaN stays NaN, as in torch::relu
    } else if constexpr (A == Activation::tanh) {
        return std::tanh(p);
    } else {
        return p / (T(1) + std::exp(-p));
    }
}

}  // namespace hepgnn::ops
