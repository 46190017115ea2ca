#include "models/ops/panel_matmul.hpp"

#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hepgnn::ops {
namespace {

// ---- float32 panel kernel (AVX-512) ---------------------------------------------------------
//
// Every product here has one side 64 columns wide (H = 64; 192 = 3 x 64 for the node net's
// input gradient), and a 64-float row is four AVX-512 registers. So one kernel shape serves all
// three products: R <= 6 output rows of a 64-column panel held in 24 registers, updated by
// broadcasting one value of A per row and multiplying it with one 64-wide row of B:
//     C[r, 0:64] = sum over t of A(r, t) * B(t, 0:64)
// With strides (A(r, t) = a[r * a_r + t * a_t], B(t) = b + t * b_t), the same code computes a
// block of x W^T (t runs over the inner dimension) and of x^T dy (t runs over the rows). B's
// panel (64 x 64 floats, 16 KB) stays in L1; nothing is packed and the output is written once,
// where BLAS packs both operands and zeroes the output in passes of their own.
#if defined(__x86_64__)
#define HEPGNN_AVX512 __attribute__((target("avx512f")))

constexpr int64_t kPanel = 64;
constexpr int kMaxRows = 6;

/// acc[r] += sum over t of A(r, t) * B(t, 0:64), with A(r, t) = a[r * a_r + t * a_t] and
/// B(t) = b + t * b_t.
template <int R>
HEPGNN_AVX512 __attribute__((always_inline)) inline void add_panel_products(
    __m512 (&acc)[R][4], const float* a, int64_t a_r, int64_t a_t, const float* b, int64_t b_t,
    int64_t t_len) {
    for (int64_t t = 0; t < t_len; ++t) {
        const float* bt = b + t * b_t;
        const __m512 b0 = _mm512_loadu_ps(bt), b1 = _mm512_loadu_ps(bt + 16),
                     b2 = _mm512_loadu_ps(bt + 32), b3 = _mm512_loadu_ps(bt + 48);
        const float* at = a + t * a_t;
        for (int r = 0; r < R; ++r) {
            const __m512 av = _mm512_set1_ps(at[r * a_r]);
            acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
            acc[r][2] = _mm512_fmadd_ps(av, b2, acc[r][2]);
            acc[r][3] = _mm512_fmadd_ps(av, b3, acc[r][3]);
        }
    }
}

template <int R>
HEPGNN_AVX512 void panel_kernel(const float* a, int64_t a_r, int64_t a_t, const float* b,
                                int64_t b_t, int64_t t_len, float* c, int64_t ldc) {
    __m512 acc[R][4];
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
    add_panel_products<R>(acc, a, a_r, a_t, b, b_t, t_len);
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < 4; ++j) _mm512_storeu_ps(c + r * ldc + 16 * j, acc[r][j]);
}

/// Calls block(std::integral_constant<int, R>{}, r) for rows [r, r + R) of `rows`: blocks of
/// kMaxRows, then one block of the rest (R < kMaxRows), so that each R is a kernel of its own.
template <typename Block>
void row_blocks(int64_t rows, const Block& block) {
    int64_t r = 0;
    for (; r + kMaxRows <= rows; r += kMaxRows) block(std::integral_constant<int, kMaxRows>{}, r);
    switch (rows - r) {
        case 5:
            return block(std::integral_constant<int, 5>{}, r);
        case 4:
            return block(std::integral_constant<int, 4>{}, r);
        case 3:
            return block(std::integral_constant<int, 3>{}, r);
        case 2:
            return block(std::integral_constant<int, 2>{}, r);
        case 1:
            return block(std::integral_constant<int, 1>{}, r);
        default:
            return;
    }
}

/// C[0:rows, panel] for rows output rows starting at A(0, .) and C's first row.
void panel_rows(int64_t rows, const float* a, int64_t a_r, int64_t a_t, const float* b, int64_t b_t,
                int64_t t_len, float* c, int64_t ldc) {
    row_blocks(rows, [&](auto n, int64_t r) {
        panel_kernel<decltype(n)::value>(a + r * a_r, a_r, a_t, b, b_t, t_len, c + r * ldc, ldc);
    });
}

bool have_avx512() {
    static const bool have = __builtin_cpu_supports("avx512f");
    return have;
}

// ---- bfloat16 panel kernel (AVX512-BF16, Note [bfloat16 products]) ---------------------------
#define HEPGNN_AVX512_BF16 __attribute__((target("avx512f,avx512bf16")))

/// bf16 with round to nearest even; NaN stays NaN (a quiet one).
uint16_t to_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return static_cast<uint16_t>(u >> 16);
}

/// out[i] = bf16(a[i]) for i < count, 32 at a time (vcvtne2ps2bf16 rounds to nearest even, as
/// to_bf16 does).
HEPGNN_AVX512_BF16 void convert_to_bf16(const float* a, int64_t count, uint16_t* out) {
    int64_t i = 0;
    for (; i + 32 <= count; i += 32) {
        const __m512 lo = _mm512_loadu_ps(a + i), hi = _mm512_loadu_ps(a + i + 16);
        _mm512_storeu_si512(out + i, reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo)));
    }
    for (; i < count; ++i) out[i] = to_bf16(a[i]);
}

/// acc[r] += bf16 rows a [R, k] (contiguous) times the packed 64-column panel b (row pairs
/// b_pair apart), float32 sums.
template <int R>
HEPGNN_AVX512_BF16 __attribute__((always_inline)) inline void add_bf16_panel_products(
    __m512 (&acc)[R][4], const uint16_t* a, int64_t k, const uint16_t* b, int64_t b_pair) {
    for (int64_t t = 0; t < k; t += 2) {
        const uint16_t* bt = b + (t / 2) * b_pair;
        const auto b0 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(bt));
        const auto b1 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(bt + 32));
        const auto b2 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(bt + 64));
        const auto b3 = reinterpret_cast<__m512bh>(_mm512_loadu_si512(bt + 96));
        for (int r = 0; r < R; ++r) {
            int32_t pair;
            std::memcpy(&pair, a + r * k + t, sizeof pair);
            const auto av = reinterpret_cast<__m512bh>(_mm512_set1_epi32(pair));
            acc[r][0] = _mm512_dpbf16_ps(acc[r][0], av, b0);
            acc[r][1] = _mm512_dpbf16_ps(acc[r][1], av, b1);
            acc[r][2] = _mm512_dpbf16_ps(acc[r][2], av, b2);
            acc[r][3] = _mm512_dpbf16_ps(acc[r][3], av, b3);
        }
    }
}

template <int R>
HEPGNN_AVX512_BF16 void bf16_panel_kernel(const uint16_t* a, int64_t k, const uint16_t* b,
                                          int64_t b_pair, float* c, int64_t ldc) {
    __m512 acc[R][4];
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
    add_bf16_panel_products<R>(acc, a, k, b, b_pair);
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < 4; ++j) _mm512_storeu_ps(c + r * ldc + 16 * j, acc[r][j]);
}

void bf16_panel_rows(int64_t rows, const uint16_t* a, int64_t k, const uint16_t* b, int64_t b_pair,
                     float* c, int64_t ldc) {
    row_blocks(rows, [&](auto n, int64_t r) {
        bf16_panel_kernel<decltype(n)::value>(a + r * k, k, b, b_pair, c + r * ldc, ldc);
    });
}

// ---- products with their row work in registers (Note [Fused row epilogue]) ------------------

// GCC 12 warns that _mm512_max_ps and _mm512_reduce_add_ps use an uninitialized value: their
// headers pass _mm512_undefined_ps() as the masked-off source (GCC bug 105593), a false positive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

/// acc = rows [row0, row0 + R) of the start rows: start_a[ia] + start_b[ib], or zero.
template <int R>
HEPGNN_AVX512 __attribute__((always_inline)) inline void start_rows(__m512 (&acc)[R][4],
                                                                    const LayerNormReluRows& ep,
                                                                    int64_t row0) {
    if (ep.start_a) {
        for (int r = 0; r < R; ++r) {
            const float* sa = ep.start_a + ep.ia[row0 + r] * kPanel;
            const float* sb = ep.start_b + ep.ib[row0 + r] * kPanel;
            for (int j = 0; j < 4; ++j)
                acc[r][j] =
                    _mm512_add_ps(_mm512_loadu_ps(sa + 16 * j), _mm512_loadu_ps(sb + 16 * j));
        }
    } else {
        for (int r = 0; r < R; ++r)
            for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
    }
}

/// Rows [row0, row0 + R) of c = (or +=) relu(layer_norm(acc + bias) * gamma + beta).
template <int R>
HEPGNN_AVX512 __attribute__((always_inline)) inline void store_layer_norm_relu(
    __m512 (&acc)[R][4], float* c, const LayerNormReluRows& ep, int64_t row0) {
    const __m512 zero = _mm512_setzero_ps();
    constexpr float inv_h = 1.0f / kPanel;
    for (int r = 0; r < R; ++r) {
        __m512 v[4];
        for (int j = 0; j < 4; ++j)
            v[j] = _mm512_add_ps(acc[r][j], _mm512_loadu_ps(ep.bias + 16 * j));
        const float mean = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(v[0], v[1]),
                                                              _mm512_add_ps(v[2], v[3]))) *
                           inv_h;
        const __m512 m = _mm512_set1_ps(mean);
        for (int j = 0; j < 4; ++j) v[j] = _mm512_sub_ps(v[j], m);
        __m512 q = _mm512_mul_ps(v[0], v[0]);
        for (int j = 1; j < 4; ++j) q = _mm512_fmadd_ps(v[j], v[j], q);
        const __m512 rstd =
            _mm512_set1_ps(1.0f / std::sqrt(_mm512_reduce_add_ps(q) * inv_h + ep.eps));
        float* cr = c + (row0 + r) * kPanel;
        for (int j = 0; j < 4; ++j) {
            // max(0, y) with 0 first: a NaN y stays NaN, as in torch::relu.
            __m512 y = _mm512_max_ps(
                zero, _mm512_fmadd_ps(_mm512_mul_ps(v[j], rstd), _mm512_loadu_ps(ep.gamma + 16 * j),
                                      _mm512_loadu_ps(ep.beta + 16 * j)));
            if (ep.accumulate) y = _mm512_add_ps(_mm512_loadu_ps(cr + 16 * j), y);
            _mm512_storeu_ps(cr + 16 * j, y);
        }
    }
}

#pragma GCC diagnostic pop

/// The float32 product: a [rows, k] (row stride lda) times b [k, 64].
struct Float32Rows {
    const float* a;
    int64_t lda, k;
    const float* b;
    float* c;
    const LayerNormReluRows& ep;

    template <int R>
    HEPGNN_AVX512 void block(int64_t row0) const {
        __m512 acc[R][4];
        start_rows<R>(acc, ep, row0);
        add_panel_products<R>(acc, a + row0 * lda, lda, 1, b, kPanel, k);
        store_layer_norm_relu<R>(acc, c, ep, row0);
    }
};

/// The bfloat16 product (Note [bfloat16 products]): a16 [rows, k] (contiguous, k even) times
/// b packed as pairs of rows of a [k, 64] matrix.
struct Bfloat16Rows {
    const uint16_t* a16;
    int64_t k;
    const uint16_t* b;
    float* c;
    const LayerNormReluRows& ep;

    template <int R>
    HEPGNN_AVX512_BF16 void block(int64_t row0) const {
        __m512 acc[R][4];
        start_rows<R>(acc, ep, row0);
        add_bf16_panel_products<R>(acc, a16 + row0 * k, k, b, 2 * kPanel);
        store_layer_norm_relu<R>(acc, c, ep, row0);
    }
};

/// All rows by row_blocks; before each full block, the next block's start rows are prefetched
/// (the node rows of an edge MLP lie anywhere in node_a and node_b).
template <typename Rows>
void fused_rows(int64_t rows, const LayerNormReluRows& ep, const Rows& kernel) {
    row_blocks(rows, [&](auto n, int64_t r) {
        if (ep.start_a && r + 2 * kMaxRows <= rows)
            for (int64_t i = r + kMaxRows; i < r + 2 * kMaxRows; ++i) {
                for (int64_t d = 0; d < kPanel; d += 16) {
                    __builtin_prefetch(ep.start_a + ep.ia[i] * kPanel + d);
                    __builtin_prefetch(ep.start_b + ep.ib[i] * kPanel + d);
                }
            }
        kernel.template block<decltype(n)::value>(r);
    });
}
#endif

}  // namespace

#if defined(__x86_64__)
bool panel_matmul_supported(int64_t width) {
    return width > 0 && width % kPanel == 0 && have_avx512();
}

void panel_matmul(const float* a, int64_t lda, int64_t rows, int64_t k, const float* b, int64_t n,
                  float* c) {
    for (int64_t p = 0; p < n; p += kPanel) panel_rows(rows, a, lda, 1, b + p, n, k, c + p, n);
}

void panel_matmul_layer_norm_relu(const float* a, int64_t lda, int64_t rows, int64_t k,
                                  const float* b, float* c, const LayerNormReluRows& epilogue) {
    fused_rows(rows, epilogue, Float32Rows{a, lda, k, b, c, epilogue});
}

void panel_matmul_at(const float* a, int64_t rows, int64_t k, const float* d, int64_t n, float* c) {
    for (int64_t p = 0; p < n; p += kPanel) panel_rows(k, a, 1, k, d + p, n, rows, c + p, n);
}
bool cpu_has_avx512_bf16() {
    static const bool have =
        __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
    return have;
}

bool bf16_panel_supported(int64_t k, int64_t n) {
    return k > 0 && k % 2 == 0 && n > 0 && n % kPanel == 0 && cpu_has_avx512_bf16();
}

void pack_bf16_pairs(const float* b, int64_t k, int64_t n, uint16_t* out) {
    for (int64_t t = 0; t < k; ++t)
        for (int64_t j = 0; j < n; ++j)
            out[(t / 2) * 2 * n + 2 * j + t % 2] = to_bf16(b[t * n + j]);
}

/// a's first `count` values as bfloat16, in a buffer of this thread's (valid until its next call).
const uint16_t* as_bf16(const float* a, int64_t count) {
    thread_local std::vector<uint16_t> a16;  // one chunk of rows, reused
    a16.resize(static_cast<size_t>(count));
    convert_to_bf16(a, count, a16.data());
    return a16.data();
}

void panel_matmul_bf16(const float* a, int64_t rows, int64_t k, const uint16_t* packed, int64_t n,
                       float* c) {
    const uint16_t* a16 = as_bf16(a, rows * k);
    for (int64_t p = 0; p < n; p += kPanel)
        bf16_panel_rows(rows, a16, k, packed + 2 * p, 2 * n, c + p, n);
}

void panel_matmul_bf16_layer_norm_relu(const float* a, int64_t rows, int64_t k,
                                       const uint16_t* packed, float* c,
                                       const LayerNormReluRows& epilogue) {
    fused_rows(rows, epilogue, Bfloat16Rows{as_bf16(a, rows * k), k, packed, c, epilogue});
}
#else
bool cpu_has_avx512_bf16() {
    return false;
}
bool bf16_panel_supported(int64_t, int64_t) {
    return false;
}
void pack_bf16_pairs(const float*, int64_t, int64_t, uint16_t*) {}
void panel_matmul_bf16(const float*, int64_t, int64_t, const uint16_t*, int64_t, float*) {}
void panel_matmul_bf16_layer_norm_relu(const float*, int64_t, int64_t, const uint16_t*, float*,
                                       const LayerNormReluRows&) {}
bool panel_matmul_supported(int64_t) {
    return false;
}
void panel_matmul(const float*, int64_t, int64_t, int64_t, const float*, int64_t, float*) {}
void panel_matmul_at(const float*, int64_t, int64_t, const float*, int64_t, float*) {}
void panel_matmul_layer_norm_relu(const float*, int64_t, int64_t, int64_t, const float*, float*,
                                  const LayerNormReluRows&) {}
#endif

}  // namespace hepgnn::ops
