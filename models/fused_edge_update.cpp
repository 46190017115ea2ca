#include "models/fused_edge_update.hpp"

#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
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

// Edges per chunk: one block of the layer norm's column sums, so each chunk's partials have a
// slot of their own; [256, 64] floats are 64 KB, and a few such buffers stay in L2.
constexpr int64_t kChunk = norm_rows::kBlockRows;
// Chunks per block of the weight-gradient sums: one [H, H] partial per 1024 edges.
constexpr int64_t kChunksPerBlock = 4;
constexpr int64_t kPerLayer = 4;  // weight, bias, gamma, beta

// ---- row loops --------------------------------------------------------------------------------

/// z[i] = (a[s[i]] + b[r[i]]) + z[i] for `rows` edges (gather_add's rounding), prefetching the
/// node rows of edges a few ahead.
HEPGNN_VECTOR_CLONES
void add_node_parts(const float* a, const float* b, const int64_t* senders,
                    const int64_t* receivers, int64_t rows, int64_t h, float* z) {
    for (int64_t i = 0; i < rows; ++i) {
        if (i + ops::kPrefetchAhead < rows) {
            ops::prefetch_row(a + senders[i + ops::kPrefetchAhead] * h, h);
            ops::prefetch_row(b + receivers[i + ops::kPrefetchAhead] * h, h);
        }
        const float* __restrict ar = a + senders[i] * h;
        const float* __restrict br = b + receivers[i] * h;
        float* __restrict zr = z + i * h;
        for (int64_t d = 0; d < h; ++d) zr[d] = (ar[d] + br[d]) + zr[d];
    }
}

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

/// out[i] = sum of parts[k * n + i] over k < count, in order k = 0, 1, ...
void sum_partials(const float* parts, int64_t count, int64_t n, float* out) {
    std::copy(parts, parts + n, out);
    for (int64_t k = 1; k < count; ++k) add_into(out, parts + k * n, n);
}

// ---- one call's operands ------------------------------------------------------------------------

/// Raw views of one call. Layer l's parameters are params[4l .. 4l + 3] (weight, bias, gamma,
/// beta); weights are [H, H] (layer 0: the e columns of the first Linear).
struct Operands {
    int64_t edges = 0, h = 0, layers = 0;
    Activation activation = Activation::relu;
    float eps = 0;
    const float *a = nullptr, *b = nullptr, *e = nullptr;  // a, b: forward only
    const int64_t *senders = nullptr, *receivers = nullptr;
    std::vector<const float*> weight;  // forward: W_l^T [in, out]; backward: W_l [out, in]
    std::vector<const float*> bias, gamma, beta;
    float *z = nullptr, *mean = nullptr, *rstd = nullptr;  // [L, E, H], [L, E], [L, E]

    int64_t chunks() const { return (edges + kChunk - 1) / kChunk; }
    int64_t blocks() const { return (chunks() + kChunksPerBlock - 1) / kChunksPerBlock; }
    int64_t first_row(int64_t chunk) const { return chunk * kChunk; }
    int64_t rows(int64_t chunk) const { return std::min(kChunk, edges - chunk * kChunk); }
    float* z_of(int64_t l, int64_t chunk) const { return z + (l * edges + first_row(chunk)) * h; }

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
        o.mean = mean + l * edges + r0;
        o.rstd = rstd + l * edges + r0;
        return o;
    }
};

/// Operands over e [E, H], the saved z, mean, rstd, and the parameters; `weights` keeps the
/// contiguous weight matrices (transposed: for forward's products) that o.weight points into.
Operands operands(const Tensor& e, const Tensor& z, const Tensor& mean, const Tensor& rstd,
                  at::TensorList params, bool transposed, Activation activation, double eps,
                  std::vector<Tensor>& weights) {
    Operands o;
    o.edges = e.size(0);
    o.h = e.size(1);
    o.layers = static_cast<int64_t>(params.size()) / kPerLayer;
    o.activation = activation;
    o.eps = static_cast<float>(eps);
    o.e = e.data_ptr<float>();
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

// ---- forward and backward of one chunk --------------------------------------------------------

/// Writes z_l and the statistics of every layer for the chunk's rows, and out = e + y.
/// y: kChunk * H floats.
void forward_chunk(const Operands& o, int64_t chunk, float* y, float* out) {
    const int64_t r0 = o.first_row(chunk), rows = o.rows(chunk), h = o.h;
    const float* e = o.e + r0 * h;
    for (int64_t l = 0; l < o.layers; ++l) {
        float* z = o.z_of(l, chunk);
        if (l == 0) {
            ops::panel_matmul(e, h, rows, h, o.weight[0], h, z);
            add_node_parts(o.a, o.b, o.senders + r0, o.receivers + r0, rows, h, z);
        } else {
            ops::panel_matmul(y, h, rows, h, o.weight[l], h, z);
        }
        auto n = o.norm(l, chunk);
        n.y = y;
        norm_rows::forward(n, o.activation, o.eps, 0, rows);
    }
    add_rows(e, y, rows * h, out + r0 * h);
}

/// What backward writes: dz_0 and de [E, H]; the layer-norm partials [L, chunks, 3, H]; the
/// weight-gradient partials [L, blocks, H, H].
struct Gradients {
    const float* grad = nullptr;  // de' [E, H]
    float *dz0 = nullptr, *de = nullptr, *norm_partial = nullptr, *weight_partial = nullptr;
};

/// One thread's buffers: the recomputed y_0..y_{L-2} of a chunk, dy and dz of one layer, a
/// weight partial, the layer norm's scratch and statistics.
struct Scratch {
    explicit Scratch(const Operands& o)
        : ys(static_cast<size_t>(std::max<int64_t>(o.layers - 1, 1) * kChunk * o.h)),
          dy(static_cast<size_t>(kChunk * o.h)),
          dz(dy.size()),
          dw(static_cast<size_t>(o.h * o.h)),
          norm(static_cast<size_t>(3 * o.h)),
          mean(kChunk),
          rstd(kChunk) {}
    std::vector<float> ys, dy, dz, dw, norm, mean, rstd;
};

void backward_chunk(const Operands& o, const Gradients& g, int64_t chunk, Scratch& s) {
    const int64_t r0 = o.first_row(chunk), rows = o.rows(chunk), h = o.h, stride = kChunk * h;
    // The inputs of products 1..L-1, recomputed (into scratch statistics: the same values).
    for (int64_t l = 0; l + 1 < o.layers; ++l) {
        auto n = o.norm(l, chunk);
        n.y = s.ys.data() + l * stride;
        n.mean = s.mean.data();
        n.rstd = s.rstd.data();
        norm_rows::forward(n, o.activation, o.eps, 0, rows);
    }
    const int64_t block = chunk / kChunksPerBlock;
    const bool first_of_block = chunk % kChunksPerBlock == 0;
    const float* dy = g.grad + r0 * h;
    for (int64_t l = o.layers - 1; l >= 0; --l) {
        auto n = o.norm(l, chunk);
        n.dy = dy;
        n.dz = l == 0 ? g.dz0 + r0 * h : s.dz.data();
        n.partial = g.norm_partial + (l * o.chunks() + chunk) * 3 * h;
        norm_rows::backward(n, o.activation, 0, 1, s.norm.data());
        // dW_l += dz_l^T x_l, x_l the product's input.
        const float* x = l == 0 ? o.e + r0 * h : s.ys.data() + (l - 1) * stride;
        float* dw = g.weight_partial + (l * o.blocks() + block) * h * h;
        if (first_of_block) {
            ops::panel_matmul_at(n.dz, rows, h, x, h, dw);
        } else {
            ops::panel_matmul_at(n.dz, rows, h, x, h, s.dw.data());
            add_into(dw, s.dw.data(), h * h);
        }
        float* dx = l == 0 ? g.de + r0 * h : s.dy.data();
        ops::panel_matmul(n.dz, h, rows, h, o.weight[l], h, dx);
        dy = dx;
    }
    add_into(g.de + r0 * h, g.grad + r0 * h, rows * h);  // the residual's share
}

// ---- autograd function --------------------------------------------------------------------------

struct FusedEdgeUpdateFunction : torch::autograd::Function<FusedEdgeUpdateFunction> {
    static Tensor forward(AutogradContext* ctx, const Tensor& a, const Tensor& b, const Tensor& e,
                          at::TensorList params, const MessagePassingIndex& index,
                          int64_t activation, double eps) {
        const int64_t edges = e.size(0), h = e.size(1);
        const int64_t layers = static_cast<int64_t>(params.size()) / kPerLayer;
        auto z = torch::empty({layers, edges, h}, e.options());
        auto mean = torch::empty({layers, edges}, e.options());
        auto rstd = torch::empty({layers, edges}, e.options());
        auto out = torch::empty_like(e);
        std::vector<Tensor> weights;
        Operands o = operands(e, z, mean, rstd, params, /*transposed=*/true,
                              static_cast<Activation>(activation), eps, weights);
        o.a = a.data_ptr<float>();
        o.b = b.data_ptr<float>();
        o.senders = index.by_sender.node_of_edge.data_ptr<int64_t>();
        o.receivers = index.by_receiver.node_of_edge.data_ptr<int64_t>();
        float* out_data = out.data_ptr<float>();
        at::parallel_for(0, o.chunks(), 1, [&](int64_t lo, int64_t hi) {
            std::vector<float> y(static_cast<size_t>(kChunk * h));
            for (int64_t c = lo; c < hi; ++c) forward_chunk(o, c, y.data(), out_data);
        });
        std::vector<Tensor> saved{e, z, mean, rstd};
        saved.insert(saved.end(), params.begin(), params.end());
        ctx->save_for_backward(saved);
        ctx->saved_data["activation"] = activation;
        ctx->saved_data["eps"] = eps;
        ctx->saved_data["sender.perm"] = index.by_sender.perm;
        ctx->saved_data["sender.rowptr"] = index.by_sender.rowptr;
        ctx->saved_data["receiver.perm"] = index.by_receiver.perm;
        ctx->saved_data["receiver.rowptr"] = index.by_receiver.rowptr;
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        const auto saved = ctx->get_saved_variables();
        const Tensor &e = saved[0], &z = saved[1], &mean = saved[2], &rstd = saved[3];
        const at::TensorList params(saved.data() + 4, saved.size() - 4);
        std::vector<Tensor> weights;
        const Operands o = operands(e, z, mean, rstd, params, /*transposed=*/false,
                                    static_cast<Activation>(ctx->saved_data["activation"].toInt()),
                                    ctx->saved_data["eps"].toDouble(), weights);
        const int64_t h = o.h;
        const Tensor grad = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(e);
        auto dz0 = torch::empty_like(e);
        auto de = torch::empty_like(e);
        auto norm_partial = torch::empty({o.layers, o.chunks(), 3, h}, e.options());
        auto weight_partial = torch::empty({o.layers, o.blocks(), h, h}, e.options());
        Gradients g;
        g.grad = grad.data_ptr<float>();
        g.dz0 = dz0.data_ptr<float>();
        g.de = de.data_ptr<float>();
        g.norm_partial = norm_partial.data_ptr<float>();
        g.weight_partial = weight_partial.data_ptr<float>();
        at::parallel_for(0, o.blocks(), 1, [&](int64_t lo, int64_t hi) {
            Scratch s(o);
            for (int64_t c = lo * kChunksPerBlock; c < std::min(hi * kChunksPerBlock, o.chunks());
                 ++c)
                backward_chunk(o, g, c, s);
        });

        variable_list out{Tensor(), Tensor(), de};
        auto node_gradient = [&](const char* key) {
            const auto perm = ctx->saved_data[std::string(key) + ".perm"].toTensor();
            const auto rowptr = ctx->saved_data[std::string(key) + ".rowptr"].toTensor();
            const int64_t n_nodes = rowptr.size(0) - 1;
            auto sum = torch::empty({n_nodes, h}, e.options());
            ops::segment_sum(g.dz0, perm.data_ptr<int64_t>(), rowptr.data_ptr<int64_t>(), n_nodes,
                             h, sum.data_ptr<float>());
            return sum;
        };
        if (ctx->needs_input_grad(0)) out[0] = node_gradient("sender");
        if (ctx->needs_input_grad(1)) out[1] = node_gradient("receiver");
        for (int64_t l = 0; l < o.layers; ++l) {
            auto dw = torch::empty({h, h}, e.options());
            sum_partials(g.weight_partial + l * o.blocks() * h * h, o.blocks(), h * h,
                         dw.data_ptr<float>());
            auto sums = torch::empty({3, h}, e.options());  // dgamma, dbeta, dbias
            sum_partials(g.norm_partial + l * o.chunks() * 3 * h, o.chunks(), 3 * h,
                         sums.data_ptr<float>());
            out.insert(out.end(), {dw, sums[2], sums[0], sums[1]});
        }
        out.insert(out.end(), {Tensor(), Tensor(), Tensor()});  // index, activation, eps
        return out;
    }
};

}  // namespace

bool fused_edge_update_applies(const MlpImpl& edge_net, const torch::Tensor& x,
                               const torch::Tensor& e) {
    const auto& opt = edge_net.options();
    if (!opt.layer_norm || !opt.output_activation) return false;
    if (!x.defined() || !e.defined() || x.dim() != 2 || e.dim() != 2) return false;
    if (!x.is_cpu() || !e.is_cpu() || x.scalar_type() != torch::kFloat ||
        e.scalar_type() != torch::kFloat)
        return false;
    const int64_t h = e.size(1);
    if (x.size(1) != h || opt.in != 3 * h || !ops::panel_matmul_supported(h)) return false;
    for (const int64_t width : opt.sizes)
        if (width != h) return false;
    for (const auto& p : edge_net.parameters())
        if (!p.is_cpu() || p.scalar_type() != torch::kFloat) return false;
    return true;
}

torch::Tensor fused_edge_update(MlpImpl& edge_net, const torch::Tensor& x, const torch::Tensor& e,
                                const MessagePassingIndex& index) {
    HEPGNN_INTERNAL_CHECK(fused_edge_update_applies(edge_net, x, e),
                          "fused_edge_update called where it does not apply");
    HEPGNN_CHECK(e.size(0) == index.by_sender.num_edges(),
                 "fused_edge_update: e has {} rows but the graph has {} edges", e.size(0),
                 index.by_sender.num_edges());
    const int64_t h = e.size(1);
    const auto& first = edge_net.first_linear()->weight;
    const Tensor a = row_blocked_matmul(x, first.narrow(1, 0, h));
    const Tensor b = row_blocked_matmul(x, first.narrow(1, h, h));
    std::vector<Tensor> params;
    for (size_t l = 0; l < edge_net.linears().size(); ++l) {
        const auto& linear = edge_net.linears()[l];
        const auto& norm = edge_net.norms()[l];
        params.insert(params.end(), {l == 0 ? first.narrow(1, 2 * h, h) : linear->weight,
                                     linear->bias, norm->weight, norm->bias});
    }
    return FusedEdgeUpdateFunction::apply(a, b, e.contiguous(), at::TensorList(params), index,
                                          static_cast<int64_t>(edge_net.options().activation),
                                          edge_net.norms()[0]->options.eps());
}

}  // namespace hepgnn::models
