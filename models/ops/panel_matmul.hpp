// The float32 panel kernel behind every tall-and-thin product of the models
// (Note [Row-blocked products] in models/row_blocked_matmul.hpp) and of the
// inference forward (models/ops/interaction_network_inference.hpp). Single-threaded:
// callers split the rows between threads. Torch-free.
#pragma once

#include <cstdint>

namespace hepgnn::ops {

/// Whether the panel kernel runs here for products whose output rows are `width` floats:
/// an x86-64 CPU with AVX-512 and width a multiple of 64.
bool panel_matmul_supported(int64_t width);

/// c [rows, n] = a [rows, k] b [k, n]: a with row stride lda, b and c contiguous.
/// Only where panel_matmul_supported(n).
void panel_matmul(const float* a, int64_t lda, int64_t rows, int64_t k, const float* b, int64_t n,
                  float* c);

/// c [k, n] = a^T d: a [rows, k] and d [rows, n] contiguous, c contiguous.
/// Only where panel_matmul_supported(n).
void panel_matmul_at(const float* a, int64_t rows, int64_t k, const float* d, int64_t n, float* c);

}  // namespace hepgnn::ops
