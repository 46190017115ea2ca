#include "models/segment_ops.hpp"

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.hpp"
#include "models/ops/segment_kernels.hpp"
#include "models/row_blocked_matmul.hpp"

namespace hepgnn::models {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// ---- kernels: CPU, contiguous row-major [rows, D] buffers (Note [Segment sums]) -------------

template <typename T>
void segment_max_backward_kernel(const T* grad, const int64_t* arg, const int64_t* perm,
                                 const int64_t* rowptr, int64_t n_nodes, int64_t dim, T* out) {
    const int64_t work = (rowptr[n_nodes] + n_nodes) * dim;
    at::parallel_for(0, n_nodes, ops::grain_for(n_nodes, work), [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) {
            const T* __restrict g = grad + n * dim;
            const int64_t* __restrict a = arg + n * dim;
            // Every edge belongs to exactly one node, so each output row is written once.
            for (int64_t k = rowptr[n]; k < rowptr[n + 1]; ++k) {
                const int64_t edge = perm[k];
                T* __restrict o = out + edge * dim;
                for (int64_t d = 0; d < dim; ++d) o[d] = a[d] == edge ? g[d] : T(0);
            }
        }
    });
}

template <typename T>
void gather_rows_kernel(const T* x, const int64_t* node, int64_t n_edges, int64_t dim, T* out) {
    at::parallel_for(0, n_edges, ops::grain_for(n_edges, n_edges * dim),
                     [&](int64_t begin, int64_t end) {
                         for (int64_t e = begin; e < end; ++e)
                             std::memcpy(out + e * dim, x + node[e] * dim, dim * sizeof(T));
                     });
}

/// out[e] = (a[s[e]] + b[r[e]]) + c[e] over all edges. c == nullptr: no c. c == out: accumulate
/// in place (same rounding as out of place: IEEE addition commutes).
template <typename T>
void gather_add_kernel(const T* a, const T* b, const T* c, const int64_t* senders,
                       const int64_t* receivers, int64_t n_edges, int64_t dim, T* out) {
    at::parallel_for(0, n_edges, ops::grain_for(n_edges, 3 * n_edges * dim),
                     [&](int64_t begin, int64_t end) {
                         ops::gather_pair_add(a, b, senders + begin, receivers + begin,
                                              c ? c + begin * dim : nullptr, end - begin, dim,
                                              out + begin * dim);
                     });
}

// ---- autograd functions (CPU) -----------------------------------------------------------------

void save_index(AutogradContext* ctx, const std::string& key, const SegmentIndex& index) {
    ctx->saved_data[key + ".perm"] = index.perm;
    ctx->saved_data[key + ".rowptr"] = index.rowptr;
    ctx->saved_data[key + ".node"] = index.node_of_edge;
}

SegmentIndex load_index(AutogradContext* ctx, const std::string& key) {
    return {ctx->saved_data[key + ".perm"].toTensor(), ctx->saved_data[key + ".rowptr"].toTensor(),
            ctx->saved_data[key + ".node"].toTensor()};
}

Tensor segment_sum_cpu(const Tensor& values, const SegmentIndex& index) {
    const int64_t n_nodes = index.num_nodes(), dim = values.size(1);
    auto out = torch::empty({n_nodes, dim}, values.options());
    AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "hepgnn::segment_sum", [&] {
        ops::segment_sum(values.data_ptr<scalar_t>(), index.perm.data_ptr<int64_t>(),
                         index.rowptr.data_ptr<int64_t>(), n_nodes, dim, out.data_ptr<scalar_t>());
    });
    return out;
}

Tensor gather_rows_cpu(const Tensor& x, const SegmentIndex& index) {
    const int64_t n_edges = index.num_edges(), dim = x.size(1);
    auto out = torch::empty({n_edges, dim}, x.options());
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "hepgnn::gather_rows", [&] {
        gather_rows_kernel(x.data_ptr<scalar_t>(), index.node_of_edge.data_ptr<int64_t>(), n_edges,
                           dim, out.data_ptr<scalar_t>());
    });
    return out;
}

struct SegmentSumFunction : torch::autograd::Function<SegmentSumFunction> {
    static Tensor forward(AutogradContext* ctx, const Tensor& values, const SegmentIndex& index) {
        save_index(ctx, "index", index);
        return segment_sum_cpu(values, index);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const SegmentIndex index = load_index(ctx, "index");
        return {gather_rows(grads[0].contiguous(), index), Tensor()};
    }
};

// Both aggregations of one edge tensor in one autograd node: its backward writes
// grad_in[r[e]] + grad_out[s[e]] in one pass, instead of two gathers and an add.
struct SegmentSumInOutFunction : torch::autograd::Function<SegmentSumInOutFunction> {
    static variable_list forward(AutogradContext* ctx, const Tensor& values,
                                 const MessagePassingIndex& index) {
        save_index(ctx, "in", index.by_receiver);
        save_index(ctx, "out", index.by_sender);
        return {segment_sum_cpu(values, index.by_receiver),
                segment_sum_cpu(values, index.by_sender)};
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const SegmentIndex in = load_index(ctx, "in"), out = load_index(ctx, "out");
        Tensor g_in = grads[0].defined() ? grads[0].contiguous() : Tensor();
        Tensor g_out = grads[1].defined() ? grads[1].contiguous() : Tensor();
        if (!g_in.defined()) g_in = torch::zeros_like(g_out);
        if (!g_out.defined()) g_out = torch::zeros_like(g_in);
        const int64_t n_edges = in.num_edges(), dim = g_in.size(1);
        auto result = torch::empty({n_edges, dim}, g_in.options());
        AT_DISPATCH_FLOATING_TYPES(g_in.scalar_type(), "hepgnn::segment_sum_in_out_backward", [&] {
            gather_add_kernel<scalar_t>(g_out.data_ptr<scalar_t>(), g_in.data_ptr<scalar_t>(),
                                        nullptr, out.node_of_edge.data_ptr<int64_t>(),
                                        in.node_of_edge.data_ptr<int64_t>(), n_edges, dim,
                                        result.data_ptr<scalar_t>());
        });
        return {result, Tensor()};
    }
};

struct GatherRowsFunction : torch::autograd::Function<GatherRowsFunction> {
    static Tensor forward(AutogradContext* ctx, const Tensor& x, const SegmentIndex& index) {
        save_index(ctx, "index", index);
        return gather_rows_cpu(x, index);
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const SegmentIndex index = load_index(ctx, "index");
        return {segment_sum(grads[0].contiguous(), index, index.num_nodes()), Tensor()};
    }
};

struct SegmentMaxFunction : torch::autograd::Function<SegmentMaxFunction> {
    static Tensor forward(AutogradContext* ctx, const Tensor& values, const SegmentIndex& index) {
        const int64_t n_nodes = index.num_nodes(), dim = values.size(1);
        auto out = torch::empty({n_nodes, dim}, values.options());
        auto arg = torch::empty({n_nodes, dim}, values.options().dtype(torch::kInt64));
        AT_DISPATCH_FLOATING_TYPES(values.scalar_type(), "hepgnn::segment_max", [&] {
            ops::segment_max(values.data_ptr<scalar_t>(), index.perm.data_ptr<int64_t>(),
                             index.rowptr.data_ptr<int64_t>(), n_nodes, dim,
                             out.data_ptr<scalar_t>(), arg.data_ptr<int64_t>());
        });
        save_index(ctx, "index", index);
        ctx->saved_data["arg"] = arg;
        return out;
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const SegmentIndex index = load_index(ctx, "index");
        const Tensor arg = ctx->saved_data["arg"].toTensor();
        const Tensor grad = grads[0].contiguous();
        const int64_t n_nodes = index.num_nodes(), dim = grad.size(1);
        auto out = torch::empty({index.num_edges(), dim}, grad.options());
        AT_DISPATCH_FLOATING_TYPES(grad.scalar_type(), "hepgnn::segment_max_backward", [&] {
            segment_max_backward_kernel(
                grad.data_ptr<scalar_t>(), arg.data_ptr<int64_t>(), index.perm.data_ptr<int64_t>(),
                index.rowptr.data_ptr<int64_t>(), n_nodes, dim, out.data_ptr<scalar_t>());
        });
        return {out, Tensor()};
    }
};

/// a[senders] + b[receivers] (+ c). With in_place, the sum is accumulated into c (which must
/// be a contiguous temporary of the caller) and c is returned, marked dirty.
struct GatherAddFunction : torch::autograd::Function<GatherAddFunction> {
    static Tensor forward(AutogradContext* ctx, const Tensor& a, const Tensor& b,
                          const c10::optional<Tensor>& c, const MessagePassingIndex& index,
                          bool in_place) {
        const int64_t n_edges = index.by_sender.num_edges(), dim = a.size(1);
        Tensor out;
        if (in_place) {
            out = *c;
            ctx->mark_dirty({out});
        } else {
            out = torch::empty({n_edges, dim}, a.options());
        }
        AT_DISPATCH_FLOATING_TYPES(a.scalar_type(), "hepgnn::gather_add", [&] {
            gather_add_kernel(a.data_ptr<scalar_t>(), b.data_ptr<scalar_t>(),
                              c ? c->data_ptr<scalar_t>() : nullptr,
                              index.by_sender.node_of_edge.data_ptr<int64_t>(),
                              index.by_receiver.node_of_edge.data_ptr<int64_t>(), n_edges, dim,
                              out.data_ptr<scalar_t>());
        });
        save_index(ctx, "senders", index.by_sender);
        save_index(ctx, "receivers", index.by_receiver);
        ctx->saved_data["has_c"] = c.has_value();
        return out;
    }
    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const Tensor grad = grads[0].contiguous();
        Tensor grad_a, grad_b, grad_c;
        if (ctx->needs_input_grad(0)) {
            const SegmentIndex by_sender = load_index(ctx, "senders");
            grad_a = segment_sum(grad, by_sender, by_sender.num_nodes());
        }
        if (ctx->needs_input_grad(1)) {
            const SegmentIndex by_receiver = load_index(ctx, "receivers");
            grad_b = segment_sum(grad, by_receiver, by_receiver.num_nodes());
        }
        if (ctx->saved_data["has_c"].toBool() && ctx->needs_input_grad(2)) grad_c = grad;
        return {grad_a, grad_b, grad_c, Tensor(), Tensor()};
    }
};

// ---- argument checks ----------------------------------------------------------------------------

void check_rows(const Tensor& t, const char* op, const char* what, int64_t rows,
                const char* rows_name) {
    HEPGNN_CHECK(t.defined(), "{}: {} is undefined", op, what);
    HEPGNN_CHECK(t.dim() == 2, "{}: {} must be two-dimensional [{}, D], got shape {}", op, what,
                 rows_name, c10::str(t.sizes()));
    HEPGNN_CHECK(t.size(0) == rows, "{}: {} has {} rows but the graph has {} {}", op, what,
                 t.size(0), rows, rows_name);
    // Off the CPU the ops run torch's own kernels (fallback::), which take the
    // half and bfloat16 inputs CUDA autocast gives them; the CPU kernels are
    // float32/float64 only.
    const auto type = t.scalar_type();
    const bool full = type == torch::kFloat || type == torch::kDouble;
    const bool low = type == torch::kHalf || type == torch::kBFloat16;
    HEPGNN_CHECK(full || (low && !t.is_cpu()), "{}: {} must be float32 or float64{}, got {}", op,
                 what, t.is_cpu() ? "" : " (or float16/bfloat16 off the CPU)", c10::toString(type));
}

void check_index(const SegmentIndex& index, const Tensor& t, const char* op) {
    HEPGNN_CHECK(index.perm.defined() && index.rowptr.defined() && index.node_of_edge.defined(),
                 "{}: the segment index is empty; build it with MessagePassingIndex::build", op);
    HEPGNN_CHECK(index.perm.device() == t.device(),
                 "{}: the segment index is on {} but the tensor is on {}; move both with .to()", op,
                 index.perm.device().str(), t.device().str());
}

}  // namespace

Tensor segment_sum(const Tensor& values, const SegmentIndex& index, int64_t n_nodes) {
    check_index(index, values, "segment_sum");
    HEPGNN_CHECK(n_nodes == index.num_nodes(),
                 "segment_sum: n_nodes = {} but the index was built for {} nodes", n_nodes,
                 index.num_nodes());
    check_rows(values, "segment_sum", "values", index.num_edges(), "edges");
    if (!values.is_cpu()) return fallback::segment_sum(values, index, n_nodes);
    return SegmentSumFunction::apply(values.contiguous(), index);
}

std::pair<Tensor, Tensor> segment_sum_in_out(const Tensor& values,
                                             const MessagePassingIndex& index) {
    check_index(index.by_receiver, values, "segment_sum_in_out");
    check_index(index.by_sender, values, "segment_sum_in_out");
    check_rows(values, "segment_sum_in_out", "values", index.by_receiver.num_edges(), "edges");
    const int64_t n = index.by_receiver.num_nodes();
    if (!values.is_cpu())
        return {fallback::segment_sum(values, index.by_receiver, n),
                fallback::segment_sum(values, index.by_sender, n)};
    auto out = SegmentSumInOutFunction::apply(values.contiguous(), index);
    return {out[0], out[1]};
}

Tensor segment_max(const Tensor& values, const SegmentIndex& index, int64_t n_nodes) {
    check_index(index, values, "segment_max");
    HEPGNN_CHECK(n_nodes == index.num_nodes(),
                 "segment_max: n_nodes = {} but the index was built for {} nodes", n_nodes,
                 index.num_nodes());
    check_rows(values, "segment_max", "values", index.num_edges(), "edges");
    if (!values.is_cpu()) return fallback::segment_max(values, index, n_nodes);
    return SegmentMaxFunction::apply(values.contiguous(), index);
}

Tensor gather_rows(const Tensor& x, const SegmentIndex& index) {
    check_index(index, x, "gather_rows");
    check_rows(x, "gather_rows", "x", index.num_nodes(), "nodes");
    if (!x.is_cpu()) return fallback::gather_rows(x, index);
    return GatherRowsFunction::apply(x.contiguous(), index);
}

namespace {

void check_gather_add(const Tensor& a, const Tensor& b, const MessagePassingIndex& index,
                      const Tensor& c) {
    check_index(index.by_sender, a, "gather_add");
    check_index(index.by_receiver, a, "gather_add");
    const int64_t n_nodes = index.by_sender.num_nodes(), n_edges = index.by_sender.num_edges();
    check_rows(a, "gather_add", "a", n_nodes, "nodes");
    check_rows(b, "gather_add", "b", n_nodes, "nodes");
    if (c.defined()) check_rows(c, "gather_add", "c", n_edges, "edges");
    HEPGNN_CHECK(
        b.sizes() == a.sizes() && b.scalar_type() == a.scalar_type() && b.device() == a.device(),
        "gather_add: a and b must have the same shape, type and device");
    HEPGNN_CHECK(!c.defined() || (c.size(1) == a.size(1) && c.scalar_type() == a.scalar_type() &&
                                  c.device() == a.device()),
                 "gather_add: c must have the width, type and device of a");
}

}  // namespace

namespace fallback {

Tensor segment_sum(const Tensor& values, const SegmentIndex& index, int64_t n_nodes) {
    return torch::zeros({n_nodes, values.size(1)}, values.options())
        .index_add_(0, index.node_of_edge, values);
}

Tensor segment_max(const Tensor& values, const SegmentIndex& index, int64_t n_nodes) {
    return torch::zeros({n_nodes, values.size(1)}, values.options())
        .scatter_reduce(0, index.node_of_edge.unsqueeze(1).expand_as(values), values, "amax",
                        /*include_self=*/false);
}

Tensor gather_rows(const Tensor& x, const SegmentIndex& index) {
    return x.index_select(0, index.node_of_edge);
}

Tensor gather_add(const Tensor& a, const Tensor& b, const MessagePassingIndex& index,
                  const Tensor& c) {
    auto out = a.index_select(0, index.by_sender.node_of_edge) +
               b.index_select(0, index.by_receiver.node_of_edge);
    return c.defined() ? out + c : out;
}

}  // namespace fallback

Tensor gather_add(const Tensor& a, const Tensor& b, const MessagePassingIndex& index,
                  const Tensor& c) {
    check_gather_add(a, b, index, c);
    if (!a.is_cpu()) return fallback::gather_add(a, b, index, c);
    c10::optional<Tensor> c_opt;
    if (c.defined()) c_opt = c.contiguous();
    return GatherAddFunction::apply(a.contiguous(), b.contiguous(), c_opt, index,
                                    /*in_place=*/false);
}

Tensor edge_linear(const Tensor& weight, const Tensor& bias, const Tensor& x,
                   const MessagePassingIndex& index, const Tensor& edge_features) {
    HEPGNN_CHECK(x.defined() && x.dim() == 2, "edge_linear: x must be [N, F]");
    const int64_t f = x.size(1);
    const int64_t c = edge_features.defined() ? edge_features.size(1) : 0;
    HEPGNN_CHECK(weight.dim() == 2 && weight.size(1) == 2 * f + c,
                 "edge_linear: the weight has shape {} but its input [x_s, x_r, c] has {} columns",
                 c10::str(weight.sizes()), 2 * f + c);
    auto a = row_blocked_matmul(x, weight.narrow(1, 0, f));
    if (bias.defined()) a = a + bias;
    auto b = row_blocked_matmul(x, weight.narrow(1, f, f));
    if (c == 0) return gather_add(a, b, index);
    auto e = row_blocked_matmul(edge_features, weight.narrow(1, 2 * f, c));
    check_gather_add(a, b, index, e);
    if (!a.is_cpu()) return fallback::gather_add(a, b, index, e);
    // e is our own contiguous temporary and the product's backward does not keep it: add into
    // it rather than allocate another [E, out] tensor (fresh pages are costly, DESIGN §4).
    return GatherAddFunction::apply(a.contiguous(), b.contiguous(), c10::optional<Tensor>(e), index,
                                    /*in_place=*/true);
}

}  // namespace hepgnn::models
