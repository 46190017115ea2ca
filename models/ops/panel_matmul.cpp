#include "models/ops/panel_matmul.hpp"

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

template <int R>
HEPGNN_AVX512 void panel_kernel(const float* a, int64_t a_r, int64_t a_t, const float* b,
                                int64_t b_t, int64_t t_len, float* c, int64_t ldc) {
    __m512 acc[R][4];
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < 4; ++j) acc[r][j] = _mm512_setzero_ps();
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
    for (int r = 0; r < R; ++r)
        for (int j = 0; j < 4; ++j) _mm512_storeu_ps(c + r * ldc + 16 * j, acc[r][j]);
}

/// C[0:rows, panel] for rows output rows starting at A(0, .) and C's first row.
HEPGNN_AVX512 void panel_rows(int64_t rows, const float* a, int64_t a_r, int64_t a_t,
                              const float* b, int64_t b_t, int64_t t_len, float* c, int64_t ldc) {
    int64_t r = 0;
    for (; r + kMaxRows <= rows; r += kMaxRows)
        panel_kernel<kMaxRows>(a + r * a_r, a_r, a_t, b, b_t, t_len, c + r * ldc, ldc);
    const float* ar = a + r * a_r;
    float* cr = c + r * ldc;
    switch (rows - r) {
        case 5:
            return panel_kernel<5>(ar, a_r, a_t, b, b_t, t_len, cr, ldc);
        case 4:
            return panel_kernel<4>(ar, a_r, a_t, b, b_t, t_len, cr, ldc);
        case 3:
            return panel_kernel<3>(ar, a_r, a_t, b, b_t, t_len, cr, ldc);
        case 2:
            return panel_kernel<2>(ar, a_r, a_t, b, b_t, t_len, cr, ldc);
        case 1:
            return panel_kernel<1>(ar, a_r, a_t, b, b_t, t_len, cr, ldc);
        default:
            return;
    }
}

bool have_avx512() {
    static const bool have = __builtin_cpu_supports("avx512f");
    return have;
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

void panel_matmul_at(const float* a, int64_t rows, int64_t k, const float* d, int64_t n, float* c) {
    for (int64_t p = 0; p < n; p += kPanel) panel_rows(k, a, 1, k, d + p, n, rows, c + p, n);
}
#else
bool panel_matmul_supported(int64_t) {
    return false;
}
void panel_matmul(const float*, int64_t, int64_t, int64_t, const float*, int64_t, float*) {}
void panel_matmul_at(const float*, int64_t, int64_t, const float*, int64_t, float*) {}
#endif

}  // namespace hepgnn::ops
