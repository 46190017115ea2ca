#include "models/row_blocked_matmul.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/error.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace hepgnn::models {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per block: large enough that one product runs near its peak, small enough that a
// 5k-row node product still splits across two threads and a block's operands stay in L2.
constexpr int64_t kBlockRows = 2048;

int64_t num_blocks(int64_t rows) {
    return (rows + kBlockRows - 1) / kBlockRows;
}

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

/// Whether the panel kernel computes a product whose output rows are `width` floats.
bool panel_path(const Tensor& t, int64_t width) {
    return t.scalar_type() == torch::kFloat32 && width % kPanel == 0 && have_avx512();
}

/// c [rows, N] = a [rows, K] b [K, N]: a with row stride lda, b and c contiguous.
void panel_matmul(const float* a, int64_t lda, int64_t rows, int64_t k, const float* b, int64_t n,
                  float* c) {
    for (int64_t p = 0; p < n; p += kPanel) panel_rows(rows, a, lda, 1, b + p, n, k, c + p, n);
}

/// c [K, N] = a^T d: a [rows, K] and d [rows, N] contiguous, c contiguous.
void panel_matmul_at(const float* a, int64_t rows, int64_t k, const float* d, int64_t n, float* c) {
    for (int64_t p = 0; p < n; p += kPanel) panel_rows(k, a, 1, k, d + p, n, rows, c + p, n);
}
#else
bool panel_path(const Tensor&, int64_t) {
    return false;
}
void panel_matmul(const float*, int64_t, int64_t, int64_t, const float*, int64_t, float*) {}
void panel_matmul_at(const float*, int64_t, int64_t, const float*, int64_t, float*) {}
#endif

// ---- row blocks -----------------------------------------------------------------------------

/// Calls fn(block, first_row, row_count) for every row block, the blocks shared between threads.
template <typename Fn>
void for_each_row_block(int64_t rows, const Fn& fn) {
    at::parallel_for(0, num_blocks(rows), 1, [&](int64_t begin, int64_t end) {
        torch::NoGradGuard no_grad;  // grad mode is thread-local: off in forward's caller only
        for (int64_t blk = begin; blk < end; ++blk) {
            const int64_t first = blk * kBlockRows;
            fn(blk, first, std::min(kBlockRows, rows - first));
        }
    });
}

/// out = a m over row blocks; a [R, K] contiguous, m [K, O] (any strides), out [R, O].
void blocked_mm(const Tensor& a, const Tensor& m, Tensor& out) {
    const int64_t k = a.size(1), n = m.size(1);
    const bool panel = panel_path(a, n);
    const Tensor mc = panel ? m.contiguous() : m;
    for_each_row_block(a.size(0), [&](int64_t, int64_t first, int64_t count) {
        if (panel) {
            panel_matmul(a.data_ptr<float>() + first * k, k, count, k, mc.data_ptr<float>(), n,
                         out.data_ptr<float>() + first * n);
        } else {
            auto o = out.narrow(0, first, count);
            at::mm_out(o, a.narrow(0, first, count), m);
        }
    });
}

/// a^T d summed over row blocks in block order; a [R, K], d [R, N] contiguous: [K, N].
Tensor blocked_mm_at(const Tensor& a, const Tensor& d) {
    const int64_t rows = a.size(0), k = a.size(1), n = d.size(1), blocks = num_blocks(rows);
    const bool panel = panel_path(a, n);
    auto partial = torch::empty({blocks, k, n}, a.options());
    for_each_row_block(rows, [&](int64_t blk, int64_t first, int64_t count) {
        auto p = partial[blk];
        if (panel) {
            panel_matmul_at(a.data_ptr<float>() + first * k, count, k,
                            d.data_ptr<float>() + first * n, n, p.data_ptr<float>());
        } else {
            at::mm_out(p, a.narrow(0, first, count).t(), d.narrow(0, first, count));
        }
    });
    auto sum = partial[0].clone();
    for (int64_t blk = 1; blk < blocks; ++blk) sum.add_(partial[blk]);
    return sum;
}

struct RowBlockedMatmul : torch::autograd::Function<RowBlockedMatmul> {
    static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& weight) {
        ctx->save_for_backward({x, weight});
        auto y = torch::empty({x.size(0), weight.size(0)}, x.options());
        blocked_mm(x, weight.t(), y);
        return y;
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const Tensor &x = saved[0], &weight = saved[1];
        const Tensor dy = grads[0].contiguous();
        Tensor dx, dw;
        if (ctx->needs_input_grad(0)) {
            dx = torch::empty_like(x);
            blocked_mm(dy, weight, dx);
        }
        if (ctx->needs_input_grad(1)) dw = blocked_mm_at(x, dy).t();  // (x^T dy)^T = dy^T x
        return {dx, dw};
    }
};

}  // namespace

Tensor row_blocked_matmul(const Tensor& x, const Tensor& weight) {
    HEPGNN_CHECK(x.dim() == 2 && weight.dim() == 2 && x.size(1) == weight.size(1),
                 "row_blocked_matmul: x {} and weight {} do not match", c10::str(x.sizes()),
                 c10::str(weight.sizes()));
    if (!x.is_cpu()) return torch::matmul(x, weight.t());
    return RowBlockedMatmul::apply(x.contiguous(), weight);
}

}  // namespace hepgnn::models
