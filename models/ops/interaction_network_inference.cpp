#include "models/ops/interaction_network_inference.hpp"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>

#include "models/ops/panel_matmul.hpp"
#include "models/ops/row_math.hpp"
#include "models/ops/segment_kernels.hpp"
#include "models/ops/vector_clones.hpp"

namespace hepgnn::ops {
namespace {

using torch::Tensor;

// Edge or node rows per chunk: a few [256, 64] buffers (64 KB each) stay in L2.
constexpr int64_t kChunk = 256;

// ---- one linear layer and what follows it ----------------------------------------------------

template <typename T>
struct Layer {
    Tensor wt;  // W^T [in, out], contiguous
    const T* bias = nullptr;
    const T* gamma = nullptr;  // layer norm, or null
    const T* beta = nullptr;
    int64_t in = 0, out = 0;
    bool activate = true;
    std::vector<uint16_t> packed;  // wt as bfloat16 pairs (Note [bfloat16 products]), or empty
    const T* w() const { return wt.data_ptr<T>(); }
    const uint16_t* p() const { return packed.empty() ? nullptr : packed.data(); }
};

template <typename T>
struct Mlp {
    std::vector<Layer<T>> layers;
    int64_t out() const { return layers.back().out; }
    int64_t widest() const {
        int64_t w = 0;
        for (const auto& l : layers) w = std::max(w, l.out);
        return w;
    }
};

/// The first product of an edge MLP split by input columns [x_s | x_r | c]: each part W^T.
struct SplitWeight {
    Tensor s, r, c;                            // [in_part, out]; c undefined for the edge encoder
    std::vector<uint16_t> s_packed, r_packed;  // bfloat16 pairs of s and r, or empty
};

/// packed as pack_bf16_pairs makes it from w [k, n] (float), or empty where the bfloat16
/// kernel does not take that shape (the float32 kernels run those products).
std::vector<uint16_t> packed_bf16(const Tensor& w) {
    const int64_t k = w.size(0), n = w.size(1);
    if (!bf16_panel_supported(k, n)) return {};
    std::vector<uint16_t> packed(static_cast<size_t>(bf16_packed_size(k, n)));
    pack_bf16_pairs(w.data_ptr<float>(), k, n, packed.data());
    return packed;
}

const uint16_t* data_or_null(const std::vector<uint16_t>& v) {
    return v.empty() ? nullptr : v.data();
}

template <typename T>
struct Network {
    Mlp<T> node_encoder, edge_encoder, edge_net, node_net, edge_classifier;
    SplitWeight encoder_split, net_split, classifier_split;
    Aggregation aggregation = Aggregation::sum;
    Activation activation = Activation::relu;
    T eps = T(1e-5);
    int64_t hidden = 0;
    int64_t edge_feature_dim = 0;  // C: x_r - x_s into the edge encoder (0: none)
    int64_t n_graph_iters = 0;
    std::vector<Tensor> keep;  // owns the converted parameters the layers point into
};

template <typename T>
__attribute__((always_inline)) inline void generic_matmul_rows(const T* a, int64_t lda,
                                                               int64_t rows, int64_t k, const T* b,
                                                               int64_t n, T* c) {
    if (n == 1) {  // the classifier's last layer: a dot product per row
        for (int64_t r = 0; r < rows; ++r) c[r] = row_dot(a + r * lda, b, k);
        return;
    }
    for (int64_t r = 0; r < rows; ++r) {
        T* __restrict cr = c + r * n;
        std::fill(cr, cr + n, T(0));
        for (int64_t t = 0; t < k; ++t) {
            const T av = a[r * lda + t];
            const T* __restrict bt = b + t * n;
            for (int64_t j = 0; j < n; ++j) cr[j] += av * bt[j];
        }
    }
}

HEPGNN_VECTOR_CLONES
void generic_matmul(const float* a, int64_t lda, int64_t rows, int64_t k, const float* b, int64_t n,
                    float* c) {
    generic_matmul_rows(a, lda, rows, k, b, n, c);
}

HEPGNN_VECTOR_CLONES
void generic_matmul(const double* a, int64_t lda, int64_t rows, int64_t k, const double* b,
                    int64_t n, double* c) {
    generic_matmul_rows(a, lda, rows, k, b, n, c);
}

/// c [rows, n] = a [rows, k] (row stride lda) b [k, n], on one thread; with bfloat16 inputs
/// where b16 (b packed by pack_bf16_pairs) is given and a's rows are contiguous.
template <typename T>
void matmul(const T* a, int64_t lda, int64_t rows, int64_t k, const T* b, int64_t n, T* c,
            const uint16_t* b16 = nullptr) {
    if constexpr (std::is_same_v<T, float>) {
        if (b16 && lda == k) return panel_matmul_bf16(a, rows, k, b16, n, c);
        if (panel_matmul_supported(n)) return panel_matmul(a, lda, rows, k, b, n, c);
    }
    generic_matmul(a, lda, rows, k, b, n, c);
}

/// z += bias, then layer norm and the activation where the layer has them, in place; the
/// rounding of models/layer_norm_activation.cpp's forward. W > 0: rows of exactly W values,
/// known at compile time (the model's width), which lets the compiler unroll the row sums.
/// Always inlined into the kernel clones below, so that each is compiled for its target.
template <Activation A, int64_t W, typename T>
__attribute__((always_inline)) inline void layer_norm_rows(T* __restrict z, int64_t rows,
                                                           int64_t width, const T* __restrict bias,
                                                           const T* __restrict gamma,
                                                           const T* __restrict beta, T eps) {
    const int64_t h = W > 0 ? W : width;
    const T inv_h = T(1) / static_cast<T>(h);
    for (int64_t r = 0; r < rows; ++r) {
        T* y = z + r * h;
        for (int64_t d = 0; d < h; ++d) y[d] += bias[d];
        const T mean = row_sum(y, h) * inv_h;
        for (int64_t d = 0; d < h; ++d) y[d] -= mean;
        const T rstd = T(1) / std::sqrt(row_dot(y, y, h) * inv_h + eps);
        for (int64_t d = 0; d < h; ++d) y[d] = activate<A>(y[d] * rstd * gamma[d] + beta[d]);
    }
}

template <Activation A, typename T>
__attribute__((always_inline)) inline void bias_rows(T* __restrict z, int64_t rows, int64_t h,
                                                     const T* __restrict bias, bool activated) {
    for (int64_t r = 0; r < rows; ++r) {
        T* y = z + r * h;
        if (activated) {
            for (int64_t d = 0; d < h; ++d) y[d] = activate<A>(y[d] + bias[d]);
        } else {
            for (int64_t d = 0; d < h; ++d) y[d] += bias[d];
        }
    }
}

/// z += bias, then layer norm and the activation where the layer has them, in place; the
/// rounding of models/layer_norm_activation.cpp's forward. W > 0: rows of exactly W values,
/// known at compile time (the model's width), which lets the compiler unroll the row sums.
/// The pointers are restrict parameters, so the loops vectorize without alias checks.
/// Always inlined into the kernel clones below, so that each is compiled for its target.
template <Activation A, int64_t W, typename T>
__attribute__((always_inline)) inline void finish_rows_as(T* z, int64_t rows, const Layer<T>& l,
                                                          T eps) {
    if (l.activate && l.gamma)
        return layer_norm_rows<A, W>(z, rows, l.out, l.bias, l.gamma, l.beta, eps);
    bias_rows<A>(z, rows, l.out, l.bias, l.activate);
}

template <int64_t W, typename T>
__attribute__((always_inline)) inline void finish_rows_width(T* z, int64_t rows, const Layer<T>& l,
                                                             Activation a, T eps) {
    switch (a) {
        case Activation::relu:
            return finish_rows_as<Activation::relu, W>(z, rows, l, eps);
        case Activation::tanh:
            return finish_rows_as<Activation::tanh, W>(z, rows, l, eps);
        case Activation::silu:
            return finish_rows_as<Activation::silu, W>(z, rows, l, eps);
    }
}

template <typename T>
__attribute__((always_inline)) inline void finish_rows_any(T* z, int64_t rows, const Layer<T>& l,
                                                           Activation a, T eps) {
    if (l.out == 64) return finish_rows_width<64>(z, rows, l, a, eps);
    finish_rows_width<0>(z, rows, l, a, eps);
}

HEPGNN_VECTOR_CLONES
void finish_rows(float* z, int64_t rows, const Layer<float>& l, Activation a, float eps) {
    finish_rows_any(z, rows, l, a, eps);
}

HEPGNN_VECTOR_CLONES
void finish_rows(double* z, int64_t rows, const Layer<double>& l, Activation a, double eps) {
    finish_rows_any(z, rows, l, a, eps);
}

/// The first product of an MLP on a chunk of rows: a [rows, k] (row stride lda) times w [k, out],
/// added to start_a[ia[i]] + start_b[ib[i]] where start_a is given (an edge MLP's node parts,
/// Note [Inference forward]); k = 0: no product, the start rows alone.
template <typename T>
struct FirstProduct {
    const T* a = nullptr;
    int64_t lda = 0, k = 0;
    const T* w = nullptr;
    const uint16_t* w16 = nullptr;  // w as bfloat16 pairs, or null
    const T* start_a = nullptr;
    const T* start_b = nullptr;
    const int64_t* ia = nullptr;
    const int64_t* ib = nullptr;
};

/// Whether a product into layer l runs with its row work in registers (Note [Fused row
/// epilogue]): float32, the default model's width, layer norm and ReLU.
template <typename T>
bool fused(const Network<T>& net, const Layer<T>& l) {
    if constexpr (std::is_same_v<T, float>) {
        return net.activation == Activation::relu && l.activate && l.gamma && l.out == 64 &&
               panel_matmul_supported(64);
    } else {
        return false;
    }
}

/// dst [rows, m.out()] = (or +=, with accumulate) m applied to the rows of `first`, on one
/// thread; buf and other: scratch of [rows, m.widest()] each. dst may hold first.a's rows
/// (the edge net's e += mlp(e)): a fused product reads each block of rows before it writes them.
template <typename T>
void run_mlp(const Network<T>& net, const Mlp<T>& m, const FirstProduct<T>& first, int64_t rows,
             T* buf, T* other, T* dst, bool accumulate) {
    const size_t last = m.layers.size() - 1;
    const T* in = nullptr;  // the previous layer's output
    for (size_t i = 0; i <= last; ++i) {
        const auto& l = m.layers[i];
        const bool head = i == 0;
        const T* a = head ? first.a : in;
        const int64_t lda = head ? first.lda : l.in, k = head ? first.k : l.in;
        const T* w = head ? first.w : l.w();
        const uint16_t* w16 = head ? first.w16 : l.p();
        const bool start = head && first.start_a;
        if (fused(net, l)) {
            if constexpr (std::is_same_v<T, float>) {
                LayerNormReluRows rows_work;
                rows_work.bias = l.bias;
                rows_work.gamma = l.gamma;
                rows_work.beta = l.beta;
                rows_work.eps = net.eps;
                if (start) {
                    rows_work.start_a = first.start_a;
                    rows_work.start_b = first.start_b;
                    rows_work.ia = first.ia;
                    rows_work.ib = first.ib;
                }
                rows_work.accumulate = i == last && accumulate;
                T* out = i == last ? dst : buf;
                // bfloat16 products where matmul would take them (contiguous rows of a).
                if (w16 && lda == k)
                    panel_matmul_bf16_layer_norm_relu(a, rows, k, w16, out, rows_work);
                else
                    panel_matmul_layer_norm_relu(a, lda, rows, k, w, out, rows_work);
                if (i == last) return;
                in = out;
                std::swap(buf, other);
                continue;
            }
        }
        if (k > 0) matmul(a, lda, rows, k, w, l.out, buf, w16);
        if (start)
            gather_pair_add(first.start_a, first.start_b, first.ia, first.ib, k > 0 ? buf : nullptr,
                            rows, l.out, buf);
        finish_rows(buf, rows, l, net.activation, net.eps);
        if (i == last) {
            const int64_t count = rows * l.out;
            if (accumulate) {
                T* __restrict d = dst;
                for (int64_t j = 0; j < count; ++j) d[j] += buf[j];
            } else {
                std::memcpy(dst, buf, count * sizeof(T));
            }
            return;
        }
        in = buf;
        std::swap(buf, other);
    }
}

// ---- node-side work: N rows -------------------------------------------------------------------

/// A [rows, width] row-major block of node rows, one piece of an MLP's input concatenation.
template <typename T>
struct Piece {
    const T* data;
    int64_t width;
};

/// out [rows, m.out()] = (or +=, with accumulate) m applied to the concatenation of the pieces.
/// out may be one of the pieces: each chunk's input is copied before its output is written.
template <typename T>
void node_mlp(const Network<T>& net, const Mlp<T>& m, const std::vector<Piece<T>>& pieces,
              int64_t rows, T* out, bool accumulate) {
    int64_t in = 0;
    for (const auto& p : pieces) in += p.width;
    const int64_t chunks = (rows + kChunk - 1) / kChunk, width = m.widest(), o = m.out();
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> scratch(static_cast<size_t>(kChunk * (in + 2 * width)));
        T* cat = scratch.data();
        T* buf = cat + kChunk * in;
        T* other = buf + kChunk * width;
        for (int64_t chunk = begin; chunk < end; ++chunk) {
            const int64_t r0 = chunk * kChunk, n = std::min(kChunk, rows - r0);
            const T* a = pieces[0].data + r0 * pieces[0].width;
            int64_t lda = pieces[0].width;
            if (pieces.size() > 1 || accumulate) {
                int64_t col = 0;
                for (const auto& p : pieces) {
                    for (int64_t r = 0; r < n; ++r)
                        std::memcpy(cat + r * in + col, p.data + (r0 + r) * p.width,
                                    p.width * sizeof(T));
                    col += p.width;
                }
                a = cat;
                lda = in;
            }
            FirstProduct<T> first;
            first.a = a;
            first.lda = lda;
            first.k = in;
            first.w = m.layers[0].w();
            first.w16 = m.layers[0].p();
            run_mlp(net, m, first, n, buf, other, out + r0 * o, accumulate);
        }
    });
}

/// dst [rows, n] = h [rows, k] w [k, n], parallel over chunks of rows (w16: w packed, or null).
template <typename T>
void node_product(const T* h, int64_t rows, int64_t k, const Tensor& w, const uint16_t* w16,
                  T* dst) {
    const int64_t n = w.size(1), chunks = (rows + kChunk - 1) / kChunk;
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
        for (int64_t chunk = begin; chunk < end; ++chunk) {
            const int64_t r0 = chunk * kChunk, count = std::min(kChunk, rows - r0);
            matmul(h + r0 * k, k, count, k, w.data_ptr<T>(), n, dst + r0 * n, w16);
        }
    });
}

// ---- edge-side work: E rows in chunks (Note [Inference forward]) -----------------------------

enum class EdgeOutput {
    write,       // e = mlp(...)                 (the edge encoder)
    accumulate,  // e += mlp(..., e)              (the edge net's residual update)
    logits,      // logits = mlp(..., e), width 1 (the classifier)
};

struct EdgeGraph {
    const int64_t* senders;
    const int64_t* receivers;
    int64_t n_nodes, n_edges;
};

/// Rows of edge inputs beside the two node parts: e itself ([E, H]), or the edge features of
/// the edge encoder ([E, C]); none when data is null.
template <typename T>
struct EdgePart {
    const T* data;
    int64_t width;
};

/// One edge MLP over all edges: its first product is a[s] + b[r] (+ edge_part W_c^T), with
/// a = h W_s^T and b = h W_r^T computed once over the nodes into the workspace node_a, node_b
/// ([N, m's first width] each).
template <typename T>
void edge_mlp(const Network<T>& net, const Mlp<T>& m, const SplitWeight& split, const T* h,
              const EdgeGraph& g, T* node_a, T* node_b, EdgePart<T> edge_part, T* e, T* logits,
              EdgeOutput output) {
    const int64_t hidden = net.hidden;
    node_product(h, g.n_nodes, hidden, split.s, data_or_null(split.s_packed), node_a);
    node_product(h, g.n_nodes, hidden, split.r, data_or_null(split.r_packed), node_b);
    const T* ap = node_a;
    const T* bp = node_b;
    const T* wc = split.c.defined() ? split.c.template data_ptr<T>() : nullptr;
    const int64_t width = m.widest(), chunks = (g.n_edges + kChunk - 1) / kChunk;
    at::parallel_for(0, chunks, 1, [&](int64_t begin, int64_t end) {
        std::vector<T> scratch(static_cast<size_t>(2 * kChunk * width));
        for (int64_t chunk = begin; chunk < end; ++chunk) {
            const int64_t e0 = chunk * kChunk, n = std::min(kChunk, g.n_edges - e0);
            FirstProduct<T> first;
            first.a = wc ? edge_part.data + e0 * edge_part.width : nullptr;
            first.lda = edge_part.width;
            first.k = wc ? edge_part.width : 0;
            first.w = wc;
            first.start_a = ap;
            first.start_b = bp;
            first.ia = g.senders + e0;
            first.ib = g.receivers + e0;
            T* dst = output == EdgeOutput::logits ? logits + e0 : e + e0 * hidden;
            run_mlp(net, m, first, n, scratch.data(), scratch.data() + kChunk * width, dst,
                    output == EdgeOutput::accumulate);
        }
    });
}

/// [E, F]: x_r - x_s per edge (x contiguous [N, F]).
template <typename T>
Tensor edge_differences(const Tensor& x, const EdgeGraph& g) {
    const int64_t f = x.size(1);
    auto out = torch::empty({g.n_edges, f}, x.options());
    const T* xp = x.data_ptr<T>();
    T* op = out.data_ptr<T>();
    at::parallel_for(0, g.n_edges, 4096, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
            const T* xs = xp + g.senders[i] * f;
            const T* xr = xp + g.receivers[i] * f;
            for (int64_t d = 0; d < f; ++d) op[i * f + d] = xr[d] - xs[d];
        }
    });
    return out;
}

// ---- parameters --------------------------------------------------------------------------------

template <typename T>
class ParameterReader {
public:
    ParameterReader(const std::vector<Tensor>& parameters, Network<T>& net, at::ScalarType type)
        : parameters_(parameters), net_(net), type_(type) {}

    /// One MLP: layers of the given output widths on `in` inputs.
    Mlp<T> mlp(const char* name, int64_t in, const std::vector<int64_t>& sizes, bool activate_last,
               bool layer_norm) {
        Mlp<T> m;
        for (size_t i = 0; i < sizes.size(); ++i) {
            Layer<T> l;
            l.in = i == 0 ? in : sizes[i - 1];
            l.out = sizes[i];
            l.activate = i + 1 < sizes.size() || activate_last;
            const Tensor w = next(name, i, "linear weight", {l.out, l.in});
            l.wt = w.t().contiguous();
            l.bias = next(name, i, "linear bias", {l.out}).template data_ptr<T>();
            if (layer_norm && l.activate) {
                l.gamma = next(name, i, "layer norm weight", {l.out}).template data_ptr<T>();
                l.beta = next(name, i, "layer norm bias", {l.out}).template data_ptr<T>();
            }
            if (i == 0) first_weight_ = w;
            m.layers.push_back(std::move(l));
        }
        return m;
    }

    /// The last MLP's first weight split into its column blocks [W_s | W_r | W_c] of `hidden`,
    /// `hidden` and `edge_width` columns (no W_c for edge_width 0), each transposed.
    SplitWeight split(int64_t hidden, int64_t edge_width) const {
        SplitWeight s;
        s.s = first_weight_.narrow(1, 0, hidden).t().contiguous();
        s.r = first_weight_.narrow(1, hidden, hidden).t().contiguous();
        if (edge_width > 0) s.c = first_weight_.narrow(1, 2 * hidden, edge_width).t().contiguous();
        return s;
    }

    void finish() const {
        TORCH_CHECK(next_ == parameters_.size(),
                    "hepgnn::interaction_network: ", parameters_.size(),
                    " parameters given, but the network's shape has ", next_);
    }

private:
    Tensor next(const char* name, size_t layer, const char* what, std::vector<int64_t> shape) {
        TORCH_CHECK(next_ < parameters_.size(), "hepgnn::interaction_network: only ",
                    parameters_.size(), " parameters given; ", name, " layer ", layer,
                    " needs its ", what, " (check n_mlp_layers and layer_norm against the model)");
        const Tensor& p = parameters_[next_++];
        TORCH_CHECK(p.defined() && p.sizes() == at::IntArrayRef(shape),
                    "hepgnn::interaction_network: ", name, " layer ", layer, " ", what,
                    " has shape ", p.defined() ? p.sizes() : at::IntArrayRef{}, ", expected ",
                    at::IntArrayRef(shape));
        net_.keep.push_back(p.to(at::kCPU, type_).contiguous());
        return net_.keep.back();
    }

    const std::vector<Tensor>& parameters_;
    Network<T>& net_;
    at::ScalarType type_;
    size_t next_ = 0;
    Tensor first_weight_;
};

Aggregation aggregation_of(const std::string& name) {
    const auto a = aggregation_from_name(name);
    TORCH_CHECK(a.has_value(), "hepgnn::interaction_network: unknown aggregation '", name,
                "' (sum, mean, max or sum_max)");
    return *a;
}

Activation activation_of(const std::string& name) {
    const auto a = activation_from_name(name);
    TORCH_CHECK(a.has_value(), "hepgnn::interaction_network: unknown activation '", name,
                "' (relu, tanh or silu)");
    return *a;
}

template <typename T>
Network<T> read_network(const std::vector<Tensor>& parameters, const InteractionNetworkShape& s,
                        int64_t input_dim, at::ScalarType type) {
    TORCH_CHECK(s.n_mlp_layers >= 1 && s.n_graph_iters >= 0,
                "hepgnn::interaction_network: n_mlp_layers must be >= 1 and n_graph_iters >= 0");
    TORCH_CHECK(!parameters.empty() && parameters[0].dim() == 2,
                "hepgnn::interaction_network: the first parameter must be the node encoder's "
                "first weight [H, F]");
    Network<T> net;
    net.aggregation = aggregation_of(s.aggregation);
    net.activation = activation_of(s.activation);
    net.eps = static_cast<T>(s.layer_norm_eps);
    net.n_graph_iters = s.n_graph_iters;
    const int64_t h = parameters[0].size(0), l = s.n_mlp_layers;
    net.hidden = h;
    const std::vector<int64_t> hidden(static_cast<size_t>(l), h);
    std::vector<int64_t> head(static_cast<size_t>(l - 1), h);
    head.push_back(1);
    const int64_t node_in = net.aggregation == Aggregation::sum_max ? 5 * h : 3 * h;
    ParameterReader<T> read(parameters, net, type);
    net.node_encoder = read.mlp("node_encoder", input_dim, hidden, true, s.layer_norm);
    net.edge_feature_dim = s.edge_differences ? input_dim : 0;
    net.edge_encoder =
        read.mlp("edge_encoder", 2 * h + net.edge_feature_dim, hidden, true, s.layer_norm);
    net.encoder_split = read.split(h, net.edge_feature_dim);
    net.edge_net = read.mlp("edge_net", 3 * h, hidden, true, s.layer_norm);
    net.net_split = read.split(h, h);
    net.node_net = read.mlp("node_net", node_in, hidden, true, s.layer_norm);
    net.edge_classifier = read.mlp("edge_classifier", 3 * h, head, false, s.layer_norm);
    net.classifier_split = read.split(h, h);
    read.finish();
    if (s.bfloat16_products) {
        TORCH_CHECK(type == at::kFloat,
                    "hepgnn::interaction_network: bfloat16 products need float32 inputs, not ",
                    type);
        TORCH_CHECK(cpu_has_avx512_bf16(),
                    "hepgnn::interaction_network: bfloat16 products need a CPU with AVX512-BF16, "
                    "which this one lacks; run in float32 (without --bf16)");
        if constexpr (std::is_same_v<T, float>) {
            for (auto* m : {&net.node_encoder, &net.edge_encoder, &net.edge_net, &net.node_net,
                            &net.edge_classifier})
                for (auto& l : m->layers) l.packed = packed_bf16(l.wt);
            for (auto* split : {&net.encoder_split, &net.net_split, &net.classifier_split}) {
                split->s_packed = packed_bf16(split->s);
                split->r_packed = packed_bf16(split->r);
            }
        }
    }
    return net;
}

// ---- the forward -------------------------------------------------------------------------------

/// out [N, H] (or [N, 2H] for sum_max: [sum | max]) = the aggregation of e over `groups`.
template <typename T>
void aggregate(const Network<T>& net, const T* e, const EdgeGroups& groups, int64_t n_nodes, T* out,
               T* scratch) {
    const int64_t h = net.hidden;
    const int64_t* perm = groups.perm.data_ptr<int64_t>();
    const int64_t* rowptr = groups.rowptr.data_ptr<int64_t>();
    switch (net.aggregation) {
        case Aggregation::sum:
            return segment_sum(e, perm, rowptr, n_nodes, h, out);
        case Aggregation::mean:
            segment_sum(e, perm, rowptr, n_nodes, h, out);
            at::parallel_for(
                0, n_nodes, grain_for(n_nodes, n_nodes * h), [&](int64_t b, int64_t f) {
                    for (int64_t n = b; n < f; ++n) {
                        const int64_t degree = std::max<int64_t>(1, rowptr[n + 1] - rowptr[n]);
                        const T inv = T(1) / static_cast<T>(degree);
                        for (int64_t d = 0; d < h; ++d) out[n * h + d] *= inv;
                    }
                });
            return;
        case Aggregation::max:
            return segment_max<T>(e, perm, rowptr, n_nodes, h, out, nullptr);
        case Aggregation::sum_max: {
            segment_sum(e, perm, rowptr, n_nodes, h, scratch);
            segment_max<T>(e, perm, rowptr, n_nodes, h, scratch + n_nodes * h, nullptr);
            for (int64_t n = 0; n < n_nodes; ++n) {
                std::memcpy(out + n * 2 * h, scratch + n * h, h * sizeof(T));
                std::memcpy(out + n * 2 * h + h, scratch + (n_nodes + n) * h, h * sizeof(T));
            }
            return;
        }
    }
}

template <typename T>
Tensor forward(const Network<T>& net, const Tensor& x, const EdgeGraph& g,
               const EdgeGroups& by_receiver, const EdgeGroups& by_sender) {
    const int64_t n = g.n_nodes, hid = net.hidden;
    const bool sum_max = net.aggregation == Aggregation::sum_max;
    const int64_t agg = sum_max ? 2 * hid : hid;
    const auto options = x.options();
    // Every buffer of the forward, allocated once (fresh pages are costly, DESIGN §4): h, the
    // two node products of the edge MLPs' first layers, the two aggregations (and sum_max's
    // scratch), e, and the logits.
    auto nodes = torch::empty({n * (3 * hid + 2 * agg + (sum_max ? 2 * hid : 0))}, options);
    T* hp = nodes.data_ptr<T>();
    T* node_a = hp + n * hid;
    T* node_b = node_a + n * hid;
    T* a_in = node_b + n * hid;
    T* a_out = a_in + n * agg;
    T* scratch = a_out + n * agg;
    node_mlp(net, net.node_encoder, {{x.data_ptr<T>(), x.size(1)}}, n, hp, false);

    auto e = torch::empty({g.n_edges, hid}, options);
    T* ep = e.data_ptr<T>();
    auto logits = torch::empty({g.n_edges}, options);
    T* none = nullptr;
    // The encoder's edge features x_r - x_s ([E, F]; a few bytes an edge, freed after it).
    Tensor differences;
    if (net.edge_feature_dim > 0) differences = edge_differences<T>(x, g);
    const EdgePart<T> encoder_part{
        differences.defined() ? differences.template data_ptr<T>() : nullptr, net.edge_feature_dim};
    edge_mlp(net, net.edge_encoder, net.encoder_split, hp, g, node_a, node_b, encoder_part, ep,
             none, EdgeOutput::write);
    differences = Tensor();
    const EdgePart<T> e_part{ep, hid};
    for (int64_t it = 0; it < net.n_graph_iters; ++it) {
        edge_mlp(net, net.edge_net, net.net_split, hp, g, node_a, node_b, e_part, ep, none,
                 EdgeOutput::accumulate);
        aggregate(net, ep, by_receiver, n, a_in, scratch);
        aggregate(net, ep, by_sender, n, a_out, scratch);
        node_mlp(net, net.node_net, {{hp, hid}, {a_in, agg}, {a_out, agg}}, n, hp, true);
    }
    edge_mlp(net, net.edge_classifier, net.classifier_split, hp, g, node_a, node_b, e_part, ep,
             logits.data_ptr<T>(), EdgeOutput::logits);
    return logits;
}

}  // namespace

Tensor interaction_network_inference(const Tensor& x, const Tensor& senders,
                                     const Tensor& receivers, const EdgeGroups& by_receiver,
                                     const EdgeGroups& by_sender,
                                     const std::vector<Tensor>& parameters,
                                     const InteractionNetworkShape& shape) {
    TORCH_CHECK(x.defined() && x.dim() == 2 && x.is_cpu(),
                "hepgnn::interaction_network: x must be a CPU tensor [N, F]");
    TORCH_CHECK(x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble,
                "hepgnn::interaction_network: x must be float32 or float64, not ", x.scalar_type());
    const int64_t n = x.size(0), n_edges = senders.size(0);
    for (const Tensor* t : {&senders, &receivers, &by_receiver.perm, &by_sender.perm})
        TORCH_CHECK(t->dim() == 1 && t->size(0) == n_edges && t->scalar_type() == at::kLong &&
                        t->is_contiguous() && t->is_cpu(),
                    "hepgnn::interaction_network: edge indices must be contiguous int64 [E]");
    for (const Tensor* t : {&by_receiver.rowptr, &by_sender.rowptr})
        TORCH_CHECK(t->dim() == 1 && t->size(0) == n + 1 && t->scalar_type() == at::kLong &&
                        t->is_contiguous() && t->is_cpu(),
                    "hepgnn::interaction_network: row pointers must be contiguous int64 [N + 1]");
    const Tensor xc = x.contiguous();
    const EdgeGraph g{senders.data_ptr<int64_t>(), receivers.data_ptr<int64_t>(), n, n_edges};
    return AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "hepgnn::interaction_network", [&] {
        const auto net = read_network<scalar_t>(parameters, shape, x.size(1), x.scalar_type());
        return forward(net, xc, g, by_receiver, by_sender);
    });
}

Tensor interaction_network_inference(const Tensor& x, const Tensor& edge_index,
                                     const std::vector<Tensor>& parameters,
                                     const InteractionNetworkShape& shape) {
    TORCH_CHECK(x.defined() && x.dim() == 2, "hepgnn::interaction_network: x must be [N, F]");
    TORCH_CHECK(edge_index.defined() && edge_index.dim() == 2 && edge_index.size(0) == 2,
                "hepgnn::interaction_network: edge_index must be [2, E]");
    TORCH_CHECK(!at::isFloatingType(edge_index.scalar_type()),
                "hepgnn::interaction_network: edge_index must hold integer node indices");
    const Tensor index = edge_index.to(at::kCPU, at::kLong).contiguous();
    const int64_t n = x.size(0), n_edges = index.size(1);
    const Tensor senders = index[0], receivers = index[1];
    auto group = [&](const Tensor& node, const char* what) {
        EdgeGroups groups{torch::empty({n_edges}, at::kLong), torch::empty({n + 1}, at::kLong)};
        const int64_t bad =
            group_edges_by_node(node.data_ptr<int64_t>(), n_edges, n,
                                groups.perm.data_ptr<int64_t>(), groups.rowptr.data_ptr<int64_t>());
        TORCH_CHECK(bad < 0, "hepgnn::interaction_network: edge_index ", what, "[", bad,
                    "] = ", bad < 0 ? 0 : node.data_ptr<int64_t>()[bad],
                    " is not a node index (x has ", n, " rows)");
        return groups;
    };
    const EdgeGroups by_receiver = group(receivers, "receivers");
    const EdgeGroups by_sender = group(senders, "senders");
    return interaction_network_inference(x, senders, receivers, by_receiver, by_sender, parameters,
                                         shape);
}

}  // namespace hepgnn::ops
