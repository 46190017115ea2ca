#include "models/fused_residual_update.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "models/layer_norm_activation.hpp"
#include "models/ops/panel_matmul.hpp"
#include "models/ops/row_math.hpp"
#include "models/ops/segment_kernels.hpp"
#include "models/ops/vector_clones.hpp"
#include "models/row_blocked_matmul.hpp"

namespace hepgnn::models {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;
namespace norm_rows = layer_norm_rows;

// Rows per chunk: one block of the layer norm's column sums, so each chunk's partials have a
// slot of their own; [256, 64] floats are 64 KB, and a few such buffers stay in L2.
constexpr int64_t kChunk = norm_rows::kBlockRows;
// Chunks per block of the weight-gradient sums: at least 2 (one [H, in] partial per 512 rows, so
// that a 5k-node update's 10 blocks split evenly between two threads), and few enough for at
// most kMaxBlocks blocks, so that a whole event's partials stay small and their in-order sum
// short (1.35M edges at 2 chunks a block: 2637 partials, 43 MB a layer). The blocks depend on
// the rows alone, so gradients do not depend on the number of threads.
constexpr int64_t kMinChunksPerBlock = 2;
constexpr int64_t kMaxBlocks = 256;
constexpr int64_t kPerLayer = 4;  // weight, bias, gamma, beta

// ---- row loops --------------------------------------------------------------------------------

/// out[i] = x[i] + y[i] for i < n.
HEPGNN_VECTOR_CLONES
void add_rows(const float* __restrict x, const float* __restrict y, int64_t n,
              float* __restrict out) {
    for (int64_t i = 0; i < n; ++i) out[i] = x[i] + y[i];
}

/// acc[i] += y[i] for i < n.
HEPGNN_VECTOR_CLONES
void add_into(float* __restrict acc, const float* __restrict y, int64_t n) {
    for (int64_t i = 0; i < n; ++i) acc[i] += y[i];
}

/// ops::sum_in_block_order, compiled for the vector units here.
HEPGNN_VECTOR_CLONES
void sum_partials(const float* parts, int64_t count, int64_t n, float* out) {
    ops::sum_in_block_order(parts, count, n, out);
}

// ---- one call's operands ------------------------------------------------------------------------

/// Raw views of one call. Layer l's parameters are params[4l .. 4l + 3] (weight, bias, gamma,
/// beta); weights are [H, in_l]: in_0 = the first layer's input width, H after it.
struct Operands {
    int64_t total = 0, h = 0, in0 = 0, layers = 0;  // total: rows (edges or nodes)
    Activation activation = Activation::relu;
    float eps = 0;
    const float* residual = nullptr;   // [rows, H]
    std::vector<const float*> weight;  // forward: W_l^T [in_l, H]; backward: W_l [H, in_l]
    std::vector<const float*> bias, gamma, beta;
    float *z = nullptr, *mean = nullptr, *rstd = nullptr;  // [L, rows, H], [L, rows], [L, rows]

    int64_t in(int64_t l) const { return l == 0 ? in0 : h; }
    int64_t chunks() const { return (total + kChunk - 1) / kChunk; }
    int64_t chunks_per_block() const {
        return std::max(kMinChunksPerBlock, (chunks() + kMaxBlocks - 1) / kMaxBlocks);
    }
    int64_t blocks() const { return (chunks() + chunks_per_block() - 1) / chunks_per_block(); }
    int64_t first_row(int64_t chunk) const { return chunk * kChunk; }
    int64_t rows(int64_t chunk) const { return std::min(kChunk, total - chunk * kChunk); }
    float* z_of(int64_t l, int64_t chunk) const { return z + (l * total + first_row(chunk)) * h; }
    /// Offset of layer l's weight-gradient partial of `block` ([H, in_l] each).
    int64_t weight_partial(int64_t l, int64_t block) const {
        return l == 0 ? block * h * in0 : blocks() * h * in0 + ((l - 1) * blocks() + block) * h * h;
    }
    int64_t weight_partial_size() const { return weight_partial(layers, 0); }

    /// Layer l's layer norm on the rows of `chunk`, with the saved statistics.
    norm_rows::Operands<float> norm(int64_t l, int64_t chunk) const {
        norm_rows::Operands<float> o;
        const int64_t r0 = first_row(chunk);
        o.rows = rows(chunk);
        o.h = h;
        o.z = z_of(l, chunk);
        o.bias = bias[l];
        o.gamma = gamma[l];
        o.beta = beta[l];
        o.mean = mean + l * total + r0;
        o.rstd = rstd + l * total + r0;
        return o;
    }
};

/// Operands over the residual [rows, H], the saved z, mean, rstd and the parameters; `weights`
/// keeps the contiguous weight matrices (transposed: for forward's products) o.weight points to.
Operands operands(const Tensor& residual, int64_t in0, const Tensor& z, const Tensor& mean,
                  const Tensor& rstd, at::TensorList params, bool transposed, Activation activation,
                  double eps, std::vector<Tensor>& weights) {
    Operands o;
    o.total = residual.size(0);
    o.h = residual.size(1);
    o.in0 = in0;
    o.layers = static_cast<int64_t>(params.size()) / kPerLayer;
    o.activation = activation;
    o.eps = static_cast<float>(eps);
    o.residual = residual.data_ptr<float>();
    o.z = z.data_ptr<float>();
    o.mean = mean.data_ptr<float>();
    o.rstd = rstd.data_ptr<float>();
    for (int64_t l = 0; l < o.layers; ++l) {
        const auto* p = params.data() + l * kPerLayer;
        weights.push_back(transposed ? p[0].t().contiguous() : p[0].contiguous());
        o.weight.push_back(weights.back().data_ptr<float>());
        o.bias.push_back(p[1].data_ptr<float>());
        o.gamma.push_back(p[2].data_ptr<float>());
        o.beta.push_back(p[3].data_ptr<float>());
    }
    return o;
}

// ---- the first layers: what differs between the edge and the node update ----------------------
//
// input(): the [rows, in0] input of the first product for a chunk (built in `buf` if need be);
// after_product(): what z_0 gets beyond that product; output_gradient(): the gradient of the
// chunk's output rows; dz0(): where the first layer's dz goes; dx0(): where dz_0 W_0 goes;
// input_gradient(): finishes the input gradients from dx0 and the output gradient (the
// residual's share).

struct EdgeFirst {
    const float *a = nullptr, *b = nullptr;  // forward: the node parts [N, H]
    const int64_t *senders = nullptr, *receivers = nullptr;
    float *dz = nullptr, *de = nullptr;  // backward: dz_0 and de [E, H]
    // backward, where the op also returned the sums over receivers and senders: their gradients
    // [N, H] (else null)
    const float *g_in = nullptr, *g_out = nullptr;

    const float* output_gradient(const Operands& o, int64_t chunk, const float* grad,
                                 float* buf) const {
        const int64_t r0 = o.first_row(chunk);
        if (!g_in) return grad + r0 * o.h;
        ops::gather_pair_add(g_out, g_in, senders + r0, receivers + r0, grad + r0 * o.h,
                             o.rows(chunk), o.h, buf);
        return buf;
    }

    const float* input(const Operands& o, int64_t chunk, float*) const {
        return o.residual + o.first_row(chunk) * o.h;
    }
    void after_product(const Operands& o, int64_t chunk, float* z) const {
        const int64_t r0 = o.first_row(chunk);
        ops::gather_pair_add(a, b, senders + r0, receivers + r0, z, o.rows(chunk), o.h, z);
    }
    float* dz0(const Operands& o, int64_t chunk, float*) const {
        return dz + o.first_row(chunk) * o.h;
    }
    float* dx0(const Operands& o, int64_t chunk, float*) const {
        return de + o.first_row(chunk) * o.h;
    }
    void input_gradient(const Operands& o, int64_t chunk, const float*, const float* grad) const {
        add_into(de + o.first_row(chunk) * o.h, grad, o.rows(chunk) * o.h);
    }
};

struct NodeFirst {
    static constexpr int kPieces = 3;  // x, a_in, a_out
    const float* piece[kPieces] = {};  // [N, width[p]]
    int64_t width[kPieces] = {};       // width[0] = H (x)
    float* piece_grad[kPieces] = {};   // backward: their gradients

    const float* input(const Operands& o, int64_t chunk, float* buf) const {
        const int64_t r0 = o.first_row(chunk);
        for (int64_t i = 0; i < o.rows(chunk); ++i) {
            float* row = buf + i * o.in0;
            for (int p = 0; p < kPieces; ++p) {
                std::memcpy(row, piece[p] + (r0 + i) * width[p], width[p] * sizeof(float));
                row += width[p];
            }
        }
        return buf;
    }
    void after_product(const Operands&, int64_t, float*) const {}
    const float* output_gradient(const Operands& o, int64_t chunk, const float* grad,
                                 float*) const {
        return grad + o.first_row(chunk) * o.h;
    }
    float* dz0(const Operands&, int64_t, float* scratch) const { return scratch; }
    float* dx0(const Operands&, int64_t, float* scratch) const { return scratch; }
    void input_gradient(const Operands& o, int64_t chunk, const float* dx0,
                        const float* grad) const {
        const int64_t r0 = o.first_row(chunk);
        for (int64_t i = 0; i < o.rows(chunk); ++i) {
            const float* row = dx0 + i * o.in0;
            add_rows(row, grad + i * o.h, o.h, piece_grad[0] + (r0 + i) * o.h);
            row += width[0];
            for (int p = 1; p < kPieces; ++p) {
                std::memcpy(piece_grad[p] + (r0 + i) * width[p], row, width[p] * sizeof(float));
                row += width[p];
            }
        }
    }
};

// ---- forward and backward of one chunk --------------------------------------------------------

/// One thread's buffers. Forward uses only ys and input, so it leaves the others empty.
struct Scratch {
    Scratch(const Operands& o, bool backward)
        : ys(static_cast<size_t>(std::max<int64_t>(o.layers - 1, 1) * kChunk * o.h)),
          input(static_cast<size_t>(kChunk * o.in0)) {
        if (!backward) return;
        const auto rows_h = static_cast<size_t>(kChunk * o.h);
        dy.resize(rows_h);
        dz.resize(rows_h);
        grad.resize(rows_h);
        dx0.resize(input.size());
        dw.resize(static_cast<size_t>(o.h * o.in0));
        norm.resize(static_cast<size_t>(3 * o.h));
        mean.resize(kChunk);
        rstd.resize(kChunk);
    }
    std::vector<float> ys;  // forward: y; backward: the recomputed y_0..y_{L-2}
    std::vector<float> input, dy, dz, grad, dx0, dw, norm, mean, rstd;
};

/// Writes z_l and the statistics of every layer for the chunk's rows, and out = residual + y.
template <typename First>
void forward_chunk(const Operands& o, const First& first, int64_t chunk, Scratch& s, float* out) {
    const int64_t r0 = o.first_row(chunk), rows = o.rows(chunk), h = o.h;
    float* y = s.ys.data();
    for (int64_t l = 0; l < o.layers; ++l) {
        float* z = o.z_of(l, chunk);
        if (l == 0) {
            const float* in = first.input(o, chunk, s.input.data());
            ops::panel_matmul(in, o.in0, rows, o.in0, o.weight[0], h, z);
            first.after_product(o, chunk, z);
        } else {
            ops::panel_matmul(y, h, rows, h, o.weight[l], h, z);
        }
        auto n = o.norm(l, chunk);
        n.y = y;
        norm_rows::forward(n, o.activation, o.eps, 0, rows);
    }
    add_rows(o.residual + r0 * h, y, rows * h, out + r0 * h);
}

/// What backward writes beside the first layer's input gradients: the layer-norm partials
/// [L, chunks, 3, H] and the weight-gradient partials (Operands::weight_partial).
struct Partials {
    float *norm = nullptr, *weight = nullptr;
};

template <typename First>
void backward_chunk(const Operands& o, const First& first, const float* grad_out, const Partials& g,
                    int64_t chunk, Scratch& s) {
    const int64_t rows = o.rows(chunk), h = o.h, stride = kChunk * h;
    // The inputs of products 1..L-1, recomputed (into scratch statistics: the same values).
    for (int64_t l = 0; l + 1 < o.layers; ++l) {
        auto n = o.norm(l, chunk);
        n.y = s.ys.data() + l * stride;
        n.mean = s.mean.data();
        n.rstd = s.rstd.data();
        norm_rows::forward(n, o.activation, o.eps, 0, rows);
    }
    const int64_t block = chunk / o.chunks_per_block();
    const bool first_of_block = chunk % o.chunks_per_block() == 0;
    const float* grad = first.output_gradient(o, chunk, grad_out, s.grad.data());
    const float* dy = grad;
    for (int64_t l = o.layers - 1; l >= 0; --l) {
        auto n = o.norm(l, chunk);
        n.dy = dy;
        n.dz = l == 0 ? first.dz0(o, chunk, s.dz.data()) : s.dz.data();
        n.partial = g.norm + (l * o.chunks() + chunk) * 3 * h;
        norm_rows::backward(n, o.activation, 0, 1, s.norm.data());
        // dW_l += dz_l^T x_l, x_l the product's input.
        const int64_t in = o.in(l);
        const float* x =
            l == 0 ? first.input(o, chunk, s.input.data()) : s.ys.data() + (l - 1) * stride;
        float* dw = g.weight + o.weight_partial(l, block);
        if (first_of_block) {
            ops::panel_matmul_at(n.dz, rows, h, x, in, dw);
        } else {
            ops::panel_matmul_at(n.dz, rows, h, x, in, s.dw.data());
            add_into(dw, s.dw.data(), h * in);
        }
        float* dx = l == 0 ? first.dx0(o, chunk, s.dx0.data()) : s.dy.data();
        ops::panel_matmul(n.dz, h, rows, h, o.weight[l], in, dx);
        dy = dx;
    }
    first.input_gradient(o, chunk, dy, grad);
}

// ---- the shared driver of both autograd functions --------------------------------------------

/// The saved state of one call: z [L, rows, H], mean and rstd [L, rows].
struct Saved {
    Tensor z, mean, rstd;
};

template <typename First>
Tensor run_forward(const Tensor& residual, int64_t in0, at::TensorList params,
                   Activation activation, double eps, const First& first, Saved& saved) {
    const int64_t rows = residual.size(0), h = residual.size(1);
    const int64_t layers = static_cast<int64_t>(params.size()) / kPerLayer;
    saved.z = torch::empty({layers, rows, h}, residual.options());
    saved.mean = torch::empty({layers, rows}, residual.options());
    saved.rstd = torch::empty({layers, rows}, residual.options());
    auto out = torch::empty_like(residual);
    std::vector<Tensor> weights;
    const Operands o = operands(residual, in0, saved.z, saved.mean, saved.rstd, params,
                                /*transposed=*/true, activation, eps, weights);
    float* out_data = out.data_ptr<float>();
    at::parallel_for(0, o.chunks(), 1, [&](int64_t lo, int64_t hi) {
        Scratch s(o, /*backward=*/false);
        for (int64_t c = lo; c < hi; ++c) forward_chunk(o, first, c, s, out_data);
    });
    return out;
}

/// Runs backward over all chunks; returns the gradients of the parameters, in params' order.
template <typename First>
std::vector<Tensor> run_backward(const Operands& o, const First& first, const Tensor& grad) {
    const int64_t h = o.h;
    const auto options = grad.options();
    auto norm_partial = torch::empty({o.layers, o.chunks(), 3, h}, options);
    auto weight_partial = torch::empty({o.weight_partial_size()}, options);
    const Partials g{norm_partial.data_ptr<float>(), weight_partial.data_ptr<float>()};
    const float* grad_out = grad.data_ptr<float>();
    at::parallel_for(0, o.blocks(), 1, [&](int64_t lo, int64_t hi) {
        Scratch s(o, /*backward=*/true);
        const int64_t per_block = o.chunks_per_block();
        for (int64_t c = lo * per_block; c < std::min(hi * per_block, o.chunks()); ++c)
            backward_chunk(o, first, grad_out, g, c, s);
    });
    std::vector<Tensor> out;
    for (int64_t l = 0; l < o.layers; ++l) {
        auto dw = torch::empty({h, o.in(l)}, options);
        sum_partials(g.weight + o.weight_partial(l, 0), o.blocks(), h * o.in(l),
                     dw.data_ptr<float>());
        auto sums = torch::empty({3, h}, options);  // dgamma, dbeta, dbias
        sum_partials(g.norm + l * o.chunks() * 3 * h, o.chunks(), 3 * h, sums.data_ptr<float>());
        out.insert(out.end(), {dw, sums[2], sums[0], sums[1]});
    }
    return out;
}

void save(AutogradContext* ctx, std::vector<Tensor> tensors, const Saved& s, at::TensorList params,
          int64_t activation, double eps) {
    tensors.insert(tensors.end(), {s.z, s.mean, s.rstd});
    tensors.insert(tensors.end(), params.begin(), params.end());
    ctx->save_for_backward(tensors);
    ctx->saved_data["activation"] = activation;
    ctx->saved_data["eps"] = eps;
}

/// The Operands of backward from the saved tensors: `inputs` tensors first, then z, mean, rstd
/// and the parameters.
Operands backward_operands(AutogradContext* ctx, const variable_list& saved, size_t inputs,
                           const Tensor& residual, int64_t in0, std::vector<Tensor>& weights) {
    const at::TensorList params(saved.data() + inputs + 3, saved.size() - inputs - 3);
    return operands(residual, in0, saved[inputs], saved[inputs + 1], saved[inputs + 2], params,
                    /*transposed=*/false,
                    static_cast<Activation>(ctx->saved_data["activation"].toInt()),
                    ctx->saved_data["eps"].toDouble(), weights);
}

Tensor contiguous_or_zeros(const Tensor& grad, const Tensor& like) {
    return grad.defined() ? grad.contiguous() : torch::zeros_like(like);
}

// ---- autograd functions -----------------------------------------------------------------------

/// Saves one side of a message-passing index under `key` (sender or receiver).
void save_index(AutogradContext* ctx, const std::string& key, const SegmentIndex& index) {
    ctx->saved_data[key + ".perm"] = index.perm;
    ctx->saved_data[key + ".rowptr"] = index.rowptr;
    ctx->saved_data[key + ".node"] = index.node_of_edge;
}

const int64_t* saved_pointer(AutogradContext* ctx, const std::string& key) {
    return ctx->saved_data[key].toTensor().data_ptr<int64_t>();
}

/// out [N, H] = the sums of values [E, H] over the edges of each node, by the saved `key` side.
Tensor saved_segment_sum(AutogradContext* ctx, const std::string& key, const float* values,
                         int64_t h, const torch::TensorOptions& options) {
    const auto rowptr = ctx->saved_data[key + ".rowptr"].toTensor();
    const int64_t n_nodes = rowptr.size(0) - 1;
    auto sum = torch::empty({n_nodes, h}, options);
    ops::segment_sum(values, saved_pointer(ctx, key + ".perm"), rowptr.data_ptr<int64_t>(), n_nodes,
                     h, sum.data_ptr<float>());
    return sum;
}

/// Outputs: e' and, with `sums`, the sums of e' over each node's incoming and outgoing edges
/// (segment_sum_in_out of e'): the sum aggregations then need no autograd node of their own,
/// and backward adds their gradient to each chunk's in cache.
struct FusedEdgeUpdateFunction : torch::autograd::Function<FusedEdgeUpdateFunction> {
    static variable_list forward(AutogradContext* ctx, const Tensor& a, const Tensor& b,
                                 const Tensor& e, at::TensorList params,
                                 const MessagePassingIndex& index, int64_t activation, double eps,
                                 bool sums) {
        EdgeFirst first;
        first.a = a.data_ptr<float>();
        first.b = b.data_ptr<float>();
        first.senders = index.by_sender.node_of_edge.data_ptr<int64_t>();
        first.receivers = index.by_receiver.node_of_edge.data_ptr<int64_t>();
        Saved s;
        variable_list out{
            run_forward(e, e.size(1), params, static_cast<Activation>(activation), eps, first, s)};
        save(ctx, {e}, s, params, activation, eps);
        save_index(ctx, "sender", index.by_sender);
        save_index(ctx, "receiver", index.by_receiver);
        ctx->saved_data["sums"] = sums;
        if (sums) {
            const float* values = out[0].data_ptr<float>();
            out.push_back(saved_segment_sum(ctx, "receiver", values, e.size(1), e.options()));
            out.push_back(saved_segment_sum(ctx, "sender", values, e.size(1), e.options()));
        }
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const Tensor& e = saved[0];
        std::vector<Tensor> weights;
        const Operands o = backward_operands(ctx, saved, 1, e, e.size(1), weights);
        const Tensor grad = contiguous_or_zeros(grads[0], e);
        auto dz0 = torch::empty_like(e);
        auto de = torch::empty_like(e);
        EdgeFirst first;
        first.dz = dz0.data_ptr<float>();
        first.de = de.data_ptr<float>();
        Tensor g_in, g_out;  // kept alive while backward reads them
        if (ctx->saved_data["sums"].toBool() && (grads[1].defined() || grads[2].defined())) {
            const auto& nodes = grads[1].defined() ? grads[1] : grads[2];
            g_in = contiguous_or_zeros(grads[1], nodes);
            g_out = contiguous_or_zeros(grads[2], nodes);
            first.g_in = g_in.data_ptr<float>();
            first.g_out = g_out.data_ptr<float>();
            first.senders = saved_pointer(ctx, "sender.node");
            first.receivers = saved_pointer(ctx, "receiver.node");
        }
        const auto param_grads = run_backward(o, first, grad);

        variable_list out{Tensor(), Tensor(), de};
        if (ctx->needs_input_grad(0))
            out[0] = saved_segment_sum(ctx, "sender", first.dz, o.h, e.options());
        if (ctx->needs_input_grad(1))
            out[1] = saved_segment_sum(ctx, "receiver", first.dz, o.h, e.options());
        out.insert(out.end(), param_grads.begin(), param_grads.end());
        out.insert(out.end(), 4, Tensor());  // index, activation, eps, sums
        return out;
    }
};

struct FusedNodeUpdateFunction : torch::autograd::Function<FusedNodeUpdateFunction> {
    static NodeFirst first_layer(const Tensor& x, const Tensor& a_in, const Tensor& a_out) {
        NodeFirst first;
        const Tensor* pieces[] = {&x, &a_in, &a_out};
        for (int p = 0; p < NodeFirst::kPieces; ++p) {
            first.piece[p] = pieces[p]->data_ptr<float>();
            first.width[p] = pieces[p]->size(1);
        }
        return first;
    }

    static Tensor forward(AutogradContext* ctx, const Tensor& x, const Tensor& a_in,
                          const Tensor& a_out, at::TensorList params, int64_t activation,
                          double eps) {
        const NodeFirst first = first_layer(x, a_in, a_out);
        Saved s;
        auto out = run_forward(x, x.size(1) + a_in.size(1) + a_out.size(1), params,
                               static_cast<Activation>(activation), eps, first, s);
        save(ctx, {x, a_in, a_out}, s, params, activation, eps);
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const Tensor &x = saved[0], &a_in = saved[1], &a_out = saved[2];
        std::vector<Tensor> weights;
        const Operands o =
            backward_operands(ctx, saved, 3, x, x.size(1) + a_in.size(1) + a_out.size(1), weights);
        const Tensor grad = contiguous_or_zeros(grads[0], x);
        NodeFirst first = first_layer(x, a_in, a_out);
        variable_list out{torch::empty_like(x), torch::empty_like(a_in), torch::empty_like(a_out)};
        for (int p = 0; p < NodeFirst::kPieces; ++p) first.piece_grad[p] = out[p].data_ptr<float>();
        const auto param_grads = run_backward(o, first, grad);
        out.insert(out.end(), param_grads.begin(), param_grads.end());
        out.insert(out.end(), {Tensor(), Tensor()});  // activation, eps
        return out;
    }
};

/// The parameters of `net` in the order of Operands: per layer weight, bias, gamma, beta;
/// `first_weight` stands in for layer 0's weight.
std::vector<Tensor> layer_parameters(const MlpImpl& net, const Tensor& first_weight) {
    std::vector<Tensor> params;
    for (size_t l = 0; l < net.linears().size(); ++l) {
        const auto& linear = net.linears()[l];
        const auto& norm = net.norms()[l];
        params.insert(params.end(), {l == 0 ? first_weight : linear->weight, linear->bias,
                                     norm->weight, norm->bias});
    }
    return params;
}

bool is_cpu_float(const Tensor& t) {
    return t.defined() && t.dim() == 2 && t.is_cpu() && t.scalar_type() == torch::kFloat;
}

/// The conditions both updates share: a net of [Linear, LayerNorm, activation] blocks all
/// `h` wide, float32 on the CPU, whose first layer takes `in` columns.
bool net_applies(const MlpImpl& net, int64_t h, int64_t in) {
    const auto& opt = net.options();
    if (!opt.layer_norm || !opt.output_activation || opt.in != in) return false;
    if (!ops::panel_matmul_supported(h) || !ops::panel_matmul_supported(in)) return false;
    for (const int64_t width : opt.sizes)
        if (width != h) return false;
    for (const auto& p : net.parameters())
        if (!p.is_cpu() || p.scalar_type() != torch::kFloat) return false;
    return true;
}

int64_t activation_of(const MlpImpl& net) {
    return static_cast<int64_t>(net.options().activation);
}

}  // namespace

bool fused_edge_update_applies(const MlpImpl& edge_net, const torch::Tensor& x,
                               const torch::Tensor& e) {
    if (!is_cpu_float(x) || !is_cpu_float(e) || x.size(1) != e.size(1)) return false;
    if (x.size(0) == 0 || e.size(0) == 0) return false;  // the composed ops handle empty graphs
    return net_applies(edge_net, e.size(1), 3 * e.size(1));
}

EdgeUpdate fused_edge_update(MlpImpl& edge_net, const torch::Tensor& x, const torch::Tensor& e,
                             const MessagePassingIndex& index, bool sums) {
    HEPGNN_INTERNAL_CHECK(fused_edge_update_applies(edge_net, x, e),
                          "fused_edge_update called where it does not apply");
    HEPGNN_CHECK(e.size(0) == index.by_sender.num_edges(),
                 "fused_edge_update: e has {} rows but the graph has {} edges", e.size(0),
                 index.by_sender.num_edges());
    HEPGNN_CHECK(x.size(0) == index.by_sender.num_nodes(),
                 "fused_edge_update: x has {} rows but the graph has {} nodes", x.size(0),
                 index.by_sender.num_nodes());
    const int64_t h = e.size(1);
    const auto& first = edge_net.first_linear()->weight;
    const Tensor a = row_blocked_matmul(x, first.narrow(1, 0, h));
    const Tensor b = row_blocked_matmul(x, first.narrow(1, h, h));
    const auto params = layer_parameters(edge_net, first.narrow(1, 2 * h, h));
    auto out = FusedEdgeUpdateFunction::apply(a, b, e.contiguous(), at::TensorList(params), index,
                                              activation_of(edge_net),
                                              edge_net.norms()[0]->options.eps(), sums);
    if (!sums) return {out[0], {}, {}};
    return {out[0], out[1], out[2]};
}

bool fused_node_update_applies(const MlpImpl& node_net, const torch::Tensor& x,
                               const torch::Tensor& a_in, const torch::Tensor& a_out) {
    if (!is_cpu_float(x) || !is_cpu_float(a_in) || !is_cpu_float(a_out)) return false;
    if (a_in.size(0) != x.size(0) || a_out.size(0) != x.size(0) || x.size(0) == 0) return false;
    return net_applies(node_net, x.size(1), x.size(1) + a_in.size(1) + a_out.size(1));
}

torch::Tensor fused_node_update(MlpImpl& node_net, const torch::Tensor& x,
                                const torch::Tensor& a_in, const torch::Tensor& a_out) {
    HEPGNN_INTERNAL_CHECK(fused_node_update_applies(node_net, x, a_in, a_out),
                          "fused_node_update called where it does not apply");
    const auto params = layer_parameters(node_net, node_net.first_linear()->weight);
    return FusedNodeUpdateFunction::apply(x.contiguous(), a_in.contiguous(), a_out.contiguous(),
                                          at::TensorList(params), activation_of(node_net),
                                          node_net.norms()[0]->options.eps());
}

}  // namespace hepgnn::models
