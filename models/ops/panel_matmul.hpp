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

// ---- products with their layer norm in registers (inference only) ---------------------------
//
// Note [Fused row epilogue]
// ~~~~~~~~~~~~~~~~~~~~~~~~~
// In the inference forward, nearly every product of the default model (H = 64, layer norm, ReLU)
// is followed by the same row work: + bias, layer norm, ReLU, and for the last layer of a
// residual MLP, + the residual. A 64-wide output row is four registers of the panel kernel, so
// that work runs on the accumulators before they are stored, and the row never makes another
// pass through memory. The first product of an edge MLP also starts its accumulators at the
// edge's node parts a[s] + b[r] (the gather of Note [Inference forward]) instead of at zero.
// The sums run in another order than layer_norm_rows' (the products are added to a + b rather
// than a + b to the products, and the row sums reduce four registers): same function, within
// float32 rounding (tests compare to 1e-5). The bfloat16 products (Note [bfloat16 products])
// take the same row work: only the product loop differs.

/// The row work after a fused product: rows start at start_a[ia[i]] + start_b[ib[i]] (rows of
/// 64; none where start_a is null), then y = relu(layer_norm(row + bias) * gamma + beta), and
/// c = y, or c += y with `accumulate`.
struct LayerNormReluRows {
    const float* bias = nullptr;
    const float* gamma = nullptr;
    const float* beta = nullptr;
    float eps = 1e-5f;
    const float* start_a = nullptr;
    const float* start_b = nullptr;
    const int64_t* ia = nullptr;
    const int64_t* ib = nullptr;
    bool accumulate = false;
};

/// c [rows, 64] (contiguous) = the rows of `epilogue` applied to a [rows, k] (row stride lda)
/// b [k, 64]; k may be 0 (no product: the start rows alone). Only where
/// panel_matmul_supported(64).
void panel_matmul_layer_norm_relu(const float* a, int64_t lda, int64_t rows, int64_t k,
                                  const float* b, float* c, const LayerNormReluRows& epilogue);

// ---- bfloat16 products (inference only) --------------------------------------------------------
//
// Note [bfloat16 products]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// CPUs with AVX512-BF16 multiply pairs of bfloat16 values and add them to float32 accumulators
// in one instruction (vdpbf16ps): twice the products of the float32 kernel per instruction, at
// 8 bits of mantissa for the inputs. The bfloat16 panel kernel has the float32 one's shape (R <=
// 6 output rows of a 64-column panel in registers), with B packed (once a forward) as pairs of
// consecutive rows, [k / 2, n, 2], so that one register holds 16 columns x 2 rows, and each row of
// A converted to bfloat16 (round to nearest even) per call. Sums and outputs stay float32, so only
// the inputs of each product are rounded; layer norms, aggregations and residual updates run in
// float32 as before.

/// Whether the bfloat16 kernel runs here: AVX512-BF16, k even, n a multiple of 64.
bool bf16_panel_supported(int64_t k, int64_t n);

/// Whether this CPU has AVX512-BF16 at all.
bool cpu_has_avx512_bf16();

/// Elements of the packed form of a [k, n] matrix (k even): k * n.
inline int64_t bf16_packed_size(int64_t k, int64_t n) {
    return k * n;
}

/// Packs b [k, n] (contiguous, k even) into pairs of rows: out[(t / 2) * 2n + 2j + t % 2] =
/// bf16(b[t, j]).
void pack_bf16_pairs(const float* b, int64_t k, int64_t n, uint16_t* out);

/// c [rows, n] = bf16(a) [rows, k] bf16(b) [k, n], float32 sums: a contiguous [rows, k], b as
/// packed by pack_bf16_pairs, c contiguous. Only where bf16_panel_supported(k, n).
void panel_matmul_bf16(const float* a, int64_t rows, int64_t k, const uint16_t* packed, int64_t n,
                       float* c);

/// panel_matmul_layer_norm_relu with the product of panel_matmul_bf16: a [rows, k] contiguous,
/// packed from a [k, 64] matrix. Only where bf16_panel_supported(k, 64).
void panel_matmul_bf16_layer_norm_relu(const float* a, int64_t rows, int64_t k,
                                       const uint16_t* packed, float* c,
                                       const LayerNormReluRows& epilogue);

}  // namespace hepgnn::ops
