#include "models/row_blocked_matmul.hpp"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/error.hpp"
#include "models/ops/panel_matmul.hpp"
#include "models/ops/row_math.hpp"
#include "models/ops/vector_clones.hpp"

namespace hepgnn::models {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Rows per block: large enough that one product runs near its peak, small enough that a
// block's operands stay in L2 and that a 5k-row node product splits evenly between two
// threads (10 blocks; 2048-row blocks made 3, and one thread sat idle a third of the time).
constexpr int64_t kBlockRows = 512;

int64_t num_blocks(int64_t rows) {
    return (rows + kBlockRows - 1) / kBlockRows;
}

/// Whether the panel kernel (models/ops/panel_matmul.hpp) computes a product whose output rows are
/// `width` floats.
bool panel_path(const Tensor& t, int64_t width) {
    return t.scalar_type() == torch::kFloat32 && ops::panel_matmul_supported(width);
}

// ---- thin products ---------------------------------------------------------------------------
//
// Products with an output a few columns wide (the edge classifier's last layer, 64 -> 1) are
// matrix-vector products. A BLAS call per block packs the whole block of A for them (measured:
// sgemm and its packing were 10% of a training step for 0.04% of its arithmetic); a dot
// product per output row, or an axpy per input row, reads each operand once.

constexpr int64_t kThinWidth = 4;

bool thin_path(const Tensor& t, int64_t width) {
    return (t.scalar_type() == torch::kFloat || t.scalar_type() == torch::kDouble) &&
           width <= kThinWidth;
}

/// out [rows, n] = a [rows, k] mt^T: mt [n, k] contiguous.
template <typename T>
HEPGNN_VECTOR_CLONES void thin_mm(const T* a, int64_t rows, int64_t k, const T* mt, int64_t n,
                                  T* out) {
    for (int64_t r = 0; r < rows; ++r)
        for (int64_t j = 0; j < n; ++j) out[r * n + j] = ops::row_dot(a + r * k, mt + j * k, k);
}

/// ct [n, k] = (a^T d)^T: a [rows, k], d [rows, n]; one axpy of a's row per output column.
template <typename T>
HEPGNN_VECTOR_CLONES void thin_mm_at(const T* a, int64_t rows, int64_t k, const T* d, int64_t n,
                                     T* ct) {
    std::fill(ct, ct + n * k, T(0));
    for (int64_t r = 0; r < rows; ++r) {
        const T* __restrict ar = a + r * k;
        for (int64_t j = 0; j < n; ++j) {
            const T s = d[r * n + j];
            T* __restrict cj = ct + j * k;
            for (int64_t t = 0; t < k; ++t) cj[t] += s * ar[t];
        }
    }
}

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
    if (!panel && thin_path(a, n)) {
        const Tensor mt = m.t().contiguous();
        AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "hepgnn::thin_mm", [&] {
            for_each_row_block(a.size(0), [&](int64_t, int64_t first, int64_t count) {
                thin_mm(a.data_ptr<scalar_t>() + first * k, count, k, mt.data_ptr<scalar_t>(), n,
                        out.data_ptr<scalar_t>() + first * n);
            });
        });
        return;
    }
    const Tensor mc = panel ? m.contiguous() : m;
    for_each_row_block(a.size(0), [&](int64_t, int64_t first, int64_t count) {
        if (panel) {
            ops::panel_matmul(a.data_ptr<float>() + first * k, k, count, k, mc.data_ptr<float>(), n,
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
    if (blocks == 0) return torch::zeros({k, n}, a.options());  // no rows: a graph without edges
    const bool panel = panel_path(a, n);
    if (!panel && thin_path(a, n)) {
        auto partial = torch::empty({blocks, n, k}, a.options());  // transposed: [n, k] each
        AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "hepgnn::thin_mm_at", [&] {
            for_each_row_block(rows, [&](int64_t blk, int64_t first, int64_t count) {
                thin_mm_at(a.data_ptr<scalar_t>() + first * k, count, k,
                           d.data_ptr<scalar_t>() + first * n, n,
                           partial.data_ptr<scalar_t>() + blk * n * k);
            });
        });
        auto sum = partial[0].clone();
        for (int64_t blk = 1; blk < blocks; ++blk) sum.add_(partial[blk]);
        return sum.t();
    }
    auto partial = torch::empty({blocks, k, n}, a.options());
    for_each_row_block(rows, [&](int64_t blk, int64_t first, int64_t count) {
        auto p = partial[blk];
        if (panel) {
            ops::panel_matmul_at(a.data_ptr<float>() + first * k, count, k,
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
