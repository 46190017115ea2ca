#include "models/onnx_export.hpp"

#include <fmt/format.h>
#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <set>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "models/gnn_model.hpp"
#include "models/model_options.hpp"

// raw_data holds little-endian values; hepgnn copies host floats byte for byte.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the ONNX writer assumes little endian");

namespace hepgnn::models {
namespace {

namespace ox = ::ONNX_NAMESPACE;

constexpr float kLayerNormEps = 1e-5f;  // torch::nn::LayerNorm's default, which hepgnn uses
constexpr int64_t kIrVersion = 8;       // ONNX 1.12's IR version: covers opsets 16 and 17

// What the exporter reads from a ModelConfig, checked.
struct Plan {
    int64_t f = 0, h = 0, l = 0, iters = 0;
    Aggregation aggregation = Aggregation::sum;
    Activation activation = Activation::relu;
    bool layer_norm = true;
    bool edge_differences = false;  // the edge encoder also reads x_r - x_s
};

std::string describe(const ModelConfig& c) {
    return fmt::format(
        "interaction_network(input_dim={}, hidden_dim={}, n_mlp_layers={}, n_graph_iters={}, "
        "aggregation={}, activation={}, layer_norm={}, edge_features={})",
        c.input_dim, c.hidden_dim, c.n_mlp_layers, c.n_graph_iters, c.aggregation, c.activation,
        c.layer_norm, c.edge_features);
}

Plan make_plan(const ModelConfig& c) {
    HEPGNN_CHECK(c.name == "interaction_network",
                 "model.name = {}: ONNX export supports only interaction_network", c.name);
    auto positive = [](int64_t v, const char* key) {
        HEPGNN_CHECK(v > 0, "{} = {}: must be at least 1 for ONNX export", key, v);
    };
    positive(c.input_dim, "model.input_dim");
    positive(c.hidden_dim, "model.hidden_dim");
    positive(c.n_mlp_layers, "model.n_mlp_layers");
    positive(c.n_graph_iters, "model.n_graph_iters");
    Plan p;
    p.f = c.input_dim;
    p.h = c.hidden_dim;
    p.l = c.n_mlp_layers;
    p.iters = c.n_graph_iters;
    p.layer_norm = c.layer_norm;
    p.edge_differences = parse_edge_differences(c.edge_features);
    p.aggregation = parse_aggregation(c.aggregation);
    p.activation = parse_activation(c.activation);
    return p;
}

// One Mlp of the model, as models/interaction_network.cpp builds it.
struct MlpSpec {
    std::string module;          // "edge_net"
    int64_t in = 0;              // input width
    std::vector<int64_t> sizes;  // output width of each Linear
    bool output_activation = true;

    // Mlp registers norm<i> only for blocks that are finished (not a raw last Linear).
    bool has_norm(size_t i, bool layer_norm) const {
        return layer_norm && (i + 1 < sizes.size() || output_activation);
    }
    std::string param(const char* kind, size_t i, const char* what) const {
        return fmt::format("{}.{}{}.{}", module, kind, i, what);
    }
};

struct MlpSpecs {
    MlpSpec node_encoder, edge_encoder, edge_net, node_net, edge_classifier;
    std::vector<const MlpSpec*> all() const {
        return {&node_encoder, &edge_encoder, &edge_net, &node_net, &edge_classifier};
    }
};

MlpSpecs mlp_specs(const Plan& p) {
    const std::vector<int64_t> hidden(static_cast<size_t>(p.l), p.h);
    MlpSpecs s;
    s.node_encoder = {"node_encoder", p.f, hidden, true};
    s.edge_encoder = {"edge_encoder", 2 * p.h + (p.edge_differences ? p.f : 0), hidden, true};
    s.edge_net = {"edge_net", 3 * p.h, hidden, true};
    // sum_max feeds [x, sum_in, max_in, sum_out, max_out].
    s.node_net = {"node_net", (p.aggregation == Aggregation::sum_max ? 5 : 3) * p.h, hidden, true};
    // mlp(3H, H, L-1) + Linear(H, 1): one Mlp whose last Linear is raw.
    std::vector<int64_t> head(static_cast<size_t>(p.l - 1), p.h);
    head.push_back(1);
    s.edge_classifier = {"edge_classifier", 3 * p.h, head, false};
    return s;
}

using ShapeList = std::vector<std::pair<std::string, std::vector<int64_t>>>;

ShapeList parameter_shapes(const Plan& p) {
    ShapeList out;
    const MlpSpecs specs = mlp_specs(p);
    for (const MlpSpec* m : specs.all()) {
        int64_t in = m->in;
        for (size_t i = 0; i < m->sizes.size(); ++i) {
            const int64_t o = m->sizes[i];
            out.push_back({m->param("linear", i, "weight"), {o, in}});
            out.push_back({m->param("linear", i, "bias"), {o}});
            if (m->has_norm(i, p.layer_norm)) {
                out.push_back({m->param("norm", i, "weight"), {o}});
                out.push_back({m->param("norm", i, "bias"), {o}});
            }
            in = o;
        }
    }
    return out;
}

std::string shape_str(const std::vector<int64_t>& shape) {
    return fmt::format("[{}]", fmt::join(shape, ", "));
}

void check_parameters(const ModelConfig& config, const ShapeList& expected,
                      const ParameterMap& params) {
    std::set<std::string> names;
    for (const auto& [name, shape] : expected) {
        names.insert(name);
        const auto it = params.find(name);
        HEPGNN_CHECK(it != params.end(),
                     "ONNX export: parameter '{}' (shape {}) is missing; {} needs it", name,
                     shape_str(shape), describe(config));
        const NamedTensor& t = it->second;
        HEPGNN_CHECK(t.shape == shape,
                     "ONNX export: parameter '{}' has shape {} but {} expects {}; does the "
                     "checkpoint match the model config?",
                     name, shape_str(t.shape), describe(config), shape_str(shape));
        int64_t numel = 1;
        for (int64_t d : shape) numel *= d;
        HEPGNN_CHECK(static_cast<int64_t>(t.values.size()) == numel,
                     "ONNX export: parameter '{}' of shape {} holds {} values instead of {}", name,
                     shape_str(shape), t.values.size(), numel);
    }
    for (const auto& entry : params)
        HEPGNN_CHECK(names.count(entry.first) == 1,
                     "ONNX export: unexpected parameter '{}' (shape {}): {} has no such parameter; "
                     "does the checkpoint match the model config?",
                     entry.first, shape_str(entry.second.shape), describe(config));
}

// ---- protobuf helpers ----------------------------------------------------------------------

ox::AttributeProto attr_int(const std::string& name, int64_t v) {
    ox::AttributeProto a;
    a.set_name(name);
    a.set_type(ox::AttributeProto::INT);
    a.set_i(v);
    return a;
}

ox::AttributeProto attr_float(const std::string& name, float v) {
    ox::AttributeProto a;
    a.set_name(name);
    a.set_type(ox::AttributeProto::FLOAT);
    a.set_f(v);
    return a;
}

ox::AttributeProto attr_string(const std::string& name, const std::string& v) {
    ox::AttributeProto a;
    a.set_name(name);
    a.set_type(ox::AttributeProto::STRING);
    a.set_s(v);
    return a;
}

ox::AttributeProto attr_ints(const std::string& name, const std::vector<int64_t>& v) {
    ox::AttributeProto a;
    a.set_name(name);
    a.set_type(ox::AttributeProto::INTS);
    for (int64_t x : v) a.add_ints(x);
    return a;
}

ox::AttributeProto attr_tensor(const std::string& name, ox::TensorProto t) {
    ox::AttributeProto a;
    a.set_name(name);
    a.set_type(ox::AttributeProto::TENSOR);
    *a.mutable_t() = std::move(t);
    return a;
}

ox::AttributeProto attr_graph(const std::string& name, ox::GraphProto g) {
    ox::AttributeProto a;
    a.set_name(name);
    a.set_type(ox::AttributeProto::GRAPH);
    *a.mutable_g() = std::move(g);
    return a;
}

template <typename T>
ox::TensorProto make_tensor(const std::string& name, int data_type,
                            const std::vector<int64_t>& shape, const T* data, size_t n) {
    ox::TensorProto t;
    t.set_name(name);
    t.set_data_type(data_type);
    for (int64_t d : shape) t.add_dims(d);
    t.set_raw_data(std::string(reinterpret_cast<const char*>(data), n * sizeof(T)));
    return t;
}

ox::TensorProto f32_tensor(const std::string& name, const std::vector<int64_t>& shape,
                           const std::vector<float>& v) {
    return make_tensor(name, ox::TensorProto::FLOAT, shape, v.data(), v.size());
}

ox::TensorProto i64_tensor(const std::string& name, const std::vector<int64_t>& shape,
                           const std::vector<int64_t>& v) {
    return make_tensor(name, ox::TensorProto::INT64, shape, v.data(), v.size());
}

// A dimension: a fixed size, a symbolic name ("N", "E"), or unknown (neither).
struct Dim {
    int64_t value = -1;
    std::string param;
};

// shape == nullptr: the type only, shape unknown.
void set_value_info(ox::ValueInfoProto* info, const std::string& name, int elem_type,
                    const std::vector<Dim>* shape) {
    info->set_name(name);
    auto* type = info->mutable_type()->mutable_tensor_type();
    type->set_elem_type(elem_type);
    if (!shape) return;
    auto* s = type->mutable_shape();  // present even for scalars: rank 0
    for (const Dim& d : *shape) {
        auto* dim = s->add_dim();
        if (!d.param.empty())
            dim->set_dim_param(d.param);
        else if (d.value >= 0)
            dim->set_dim_value(d.value);
    }
}

// Names every value and node once (SSA, across the main graph and Loop bodies) and keeps
// constants as initializers of the main graph, where Loop bodies see them too.
struct Names {
    ox::GraphProto* main = nullptr;
    std::set<std::string> used;
    std::set<std::string> constants;
};

class GraphBuilder {
public:
    GraphBuilder(Names& names, ox::GraphProto* graph) : names_(names), graph_(graph) {}

    /// A node named `name` with outputs `outputs` (one output called `name` when empty).
    std::vector<std::string> node(const std::string& op, const std::string& name,
                                  const std::vector<std::string>& inputs,
                                  std::vector<ox::AttributeProto> attrs = {},
                                  std::vector<std::string> outputs = {}) {
        if (outputs.empty()) outputs.push_back(name);
        auto* n = graph_->add_node();
        n->set_op_type(op);
        n->set_name(name);
        for (const auto& in : inputs) n->add_input(in);
        for (const auto& out : outputs) {
            HEPGNN_INTERNAL_CHECK(names_.used.insert(out).second, "ONNX value '{}' defined twice",
                                  out);
            n->add_output(out);
        }
        for (auto& a : attrs) *n->add_attribute() = std::move(a);
        return outputs;
    }

    std::string op(const std::string& op, const std::string& name,
                   const std::vector<std::string>& inputs,
                   std::vector<ox::AttributeProto> attrs = {}) {
        return node(op, name, inputs, std::move(attrs)).front();
    }

    std::string i64(const std::vector<int64_t>& v, const std::vector<int64_t>& shape) {
        const auto name = constant_name("i64", v, shape);
        if (names_.constants.insert(name).second) {
            HEPGNN_INTERNAL_CHECK(names_.used.insert(name).second, "ONNX value '{}' twice", name);
            *names_.main->add_initializer() = i64_tensor(name, shape, v);
        }
        return name;
    }
    std::string i64_scalar(int64_t v) { return i64({v}, {}); }
    std::string i64_vector(const std::vector<int64_t>& v) {
        return i64(v, {static_cast<int64_t>(v.size())});
    }

    std::string f32(const std::vector<float>& v, const std::vector<int64_t>& shape) {
        const auto name = constant_name("f32", v, shape);
        if (names_.constants.insert(name).second) {
            HEPGNN_INTERNAL_CHECK(names_.used.insert(name).second, "ONNX value '{}' twice", name);
            *names_.main->add_initializer() = f32_tensor(name, shape, v);
        }
        return name;
    }

    void declare(const std::string& name) {
        HEPGNN_INTERNAL_CHECK(names_.used.insert(name).second, "ONNX value '{}' defined twice",
                              name);
    }

    Names& names() { return names_; }

private:
    // "const/i64/1x64/1_64", "const/f32/1x64/all_0", "const/i64/scalar/0".
    template <typename T>
    static std::string constant_name(const char* type, const std::vector<T>& v,
                                     const std::vector<int64_t>& shape) {
        const auto dims =
            shape.empty() ? std::string("scalar") : fmt::format("{}", fmt::join(shape, "x"));
        const bool uniform =
            v.size() > 1 && std::all_of(v.begin(), v.end(), [&](T x) { return x == v[0]; });
        return uniform ? fmt::format("const/{}/{}/all_{}", type, dims, v[0])
                       : fmt::format("const/{}/{}/{}", type, dims, fmt::join(v, "_"));
    }

    Names& names_;
    ox::GraphProto* graph_;
};

// Values computed once from edge_index for the aggregations onto one side of the edges.
struct AggregationIndex {
    std::string name;          // "in" | "out"
    std::string nodes;         // [E] the node each edge is aggregated onto
    std::string expanded;      // [E, H] nodes repeated along the columns (ScatterElements indices)
    std::string mean_divisor;  // [N, 1] max(degree, 1) (mean only)
    // max only (Note [ONNX graph]):
    std::string sorted_nodes;   // [E] nodes in ascending order
    std::string perm;           // [E] the edge at each sorted position
    std::string last;           // [N] sorted position of each node's last edge; E for none
    std::string max_degree;     // scalar
    std::string more_than_one;  // scalar bool: max_degree > 1 (the Loop's first condition)
};

class Emitter {
public:
    Emitter(GraphBuilder& b, const Plan& p, int opset) : b_(b), p_(p), opset_(opset) {}

    std::string build(const MlpSpecs& mlps) {
        const bool need_sum = p_.aggregation != Aggregation::max;
        const bool need_max =
            p_.aggregation == Aggregation::max || p_.aggregation == Aggregation::sum_max;
        senders_ = b_.op("Gather", "input/senders", {"edge_index", b_.i64_scalar(0)},
                         {attr_int("axis", 0)});
        receivers_ = b_.op("Gather", "input/receivers", {"edge_index", b_.i64_scalar(1)},
                           {attr_int("axis", 0)});
        num_nodes_ =
            b_.op("Shape", "input/num_nodes", {"x"}, {attr_int("start", 0), attr_int("end", 1)});
        num_edges_ = b_.op("Shape", "input/num_edges", {"edge_index"},
                           {attr_int("start", 1), attr_int("end", 2)});
        if (need_sum) {
            const auto shape = b_.op("Concat", "aggregate/zeros_shape",
                                     {num_nodes_, b_.i64_vector({p_.h})}, {attr_int("axis", 0)});
            zeros_nh_ = b_.op("ConstantOfShape", "aggregate/zeros", {shape},
                              {attr_tensor("value", f32_tensor("", {1}, {0.f}))});
        }
        AggregationIndex in = index("in", receivers_, need_sum, need_max);
        AggregationIndex out = index("out", senders_, need_sum, need_max);

        auto x = mlp(mlps.node_encoder, "encode", "x");
        std::vector<std::string> encoder_in{gather(x, senders_, "encode/x_senders"),
                                            gather(x, receivers_, "encode/x_receivers")};
        if (p_.edge_differences)
            encoder_in.push_back(b_.op("Sub", "encode/edge_features",
                                       {gather("x", receivers_, "encode/input_receivers"),
                                        gather("x", senders_, "encode/input_senders")}));
        auto e =
            mlp(mlps.edge_encoder, "encode",
                b_.op("Concat", "encode/edge_encoder/concat", encoder_in, {attr_int("axis", 1)}));
        for (int64_t it = 0; it < p_.iters; ++it) {
            const auto scope = fmt::format("iter{}", it);
            const auto edge_in = b_.op("Concat", scope + "/edge_net/concat",
                                       {gather(x, senders_, scope + "/x_senders"),
                                        gather(x, receivers_, scope + "/x_receivers"), e},
                                       {attr_int("axis", 1)});
            e = b_.op("Add", scope + "/e", {e, mlp(mlps.edge_net, scope, edge_in)});
            std::vector<std::string> node_in = {x};
            for (const auto& a : aggregate(scope, in, e)) node_in.push_back(a);
            for (const auto& a : aggregate(scope, out, e)) node_in.push_back(a);
            const auto cat =
                b_.op("Concat", scope + "/node_net/concat", node_in, {attr_int("axis", 1)});
            x = b_.op("Add", scope + "/x", {x, mlp(mlps.node_net, scope, cat)});
        }
        const auto head_in = b_.op("Concat", "classify/edge_classifier/concat",
                                   {gather(x, senders_, "classify/x_senders"),
                                    gather(x, receivers_, "classify/x_receivers"), e},
                                   {attr_int("axis", 1)});
        const auto z = mlp(mlps.edge_classifier, "classify", head_in);
        return b_.node("Squeeze", "classify/squeeze", {z, b_.i64_vector({1})}, {}, {"logits"})
            .front();
    }

private:
    std::string gather(const std::string& data, const std::string& idx, const std::string& name) {
        return b_.op("Gather", name, {data, idx}, {attr_int("axis", 0)});
    }

    AggregationIndex index(const std::string& side, const std::string& nodes, bool need_sum,
                           bool need_max) {
        AggregationIndex a;
        a.name = side;
        a.nodes = nodes;
        const auto s = "aggregate_" + side + "/";
        if (need_sum) {
            const auto col = b_.op("Unsqueeze", s + "nodes_column", {nodes, b_.i64_vector({1})});
            a.expanded = b_.op("Expand", s + "index", {col, b_.i64_vector({1, p_.h})});
        }
        if (p_.aggregation == Aggregation::mean) {
            const auto zeros = b_.op("ConstantOfShape", s + "degree_zeros", {num_nodes_},
                                     {attr_tensor("value", f32_tensor("", {1}, {0.f}))});
            const auto ones = b_.op("ConstantOfShape", s + "degree_ones", {num_edges_},
                                    {attr_tensor("value", f32_tensor("", {1}, {1.f}))});
            const auto degree = b_.op("ScatterElements", s + "degree", {zeros, nodes, ones},
                                      {attr_int("axis", 0), attr_string("reduction", "add")});
            const auto clamped = b_.op("Max", s + "degree_at_least_1", {degree, b_.f32({1.f}, {})});
            a.mean_divisor = b_.op("Unsqueeze", s + "mean_divisor", {clamped, b_.i64_vector({1})});
        }
        if (need_max) {
            const auto zeros = b_.op("ConstantOfShape", s + "count_zeros", {num_nodes_},
                                     {attr_tensor("value", i64_tensor("", {1}, {0}))});
            const auto ones = b_.op("ConstantOfShape", s + "count_ones", {num_edges_},
                                    {attr_tensor("value", i64_tensor("", {1}, {1}))});
            const auto degree = b_.op("ScatterElements", s + "count", {zeros, nodes, ones},
                                      {attr_int("axis", 0), attr_string("reduction", "add")});
            // Ascending node ids; ties in any order (max does not care).
            const auto topk =
                b_.node("TopK", s + "sort", {nodes, num_edges_},
                        {attr_int("axis", 0), attr_int("largest", 0), attr_int("sorted", 1)},
                        {s + "sorted_nodes", s + "perm"});
            a.sorted_nodes = topk[0];
            a.perm = topk[1];
            const auto ends = b_.op("CumSum", s + "segment_ends", {degree, b_.i64_scalar(0)});
            const auto last = b_.op("Sub", s + "segment_last", {ends, b_.i64_scalar(1)});
            const auto has_edges = b_.op("Greater", s + "has_edges", {degree, b_.i64_scalar(0)});
            // Nodes without edges read row E, a row of zeros appended to the running max.
            a.last = b_.op("Where", s + "gather_rows", {has_edges, last, num_edges_scalar()});
            // The extra 0 keeps ReduceMax defined when N = 0.
            const auto padded = b_.op("Concat", s + "count_padded", {degree, b_.i64_vector({0})},
                                      {attr_int("axis", 0)});
            a.max_degree =
                b_.op("ReduceMax", s + "max_degree", {padded}, {attr_int("keepdims", 0)});
            a.more_than_one =
                b_.op("Greater", s + "max_degree_above_1", {a.max_degree, b_.i64_scalar(1)});
        }
        return a;
    }

    std::string num_edges_scalar() {
        if (num_edges_scalar_.empty())
            num_edges_scalar_ =
                b_.op("Squeeze", "input/num_edges_scalar", {num_edges_, b_.i64_vector({0})});
        return num_edges_scalar_;
    }

    // [E]: 0, 1, ..., E - 1.
    std::string edge_positions() {
        if (edge_positions_.empty())
            edge_positions_ = b_.op("Range", "input/edge_positions",
                                    {b_.i64_scalar(0), num_edges_scalar(), b_.i64_scalar(1)});
        return edge_positions_;
    }

    std::vector<std::string> aggregate(const std::string& scope, const AggregationIndex& a,
                                       const std::string& e) {
        const auto s = fmt::format("{}/aggregate_{}/", scope, a.name);
        auto sum = [&] {
            return b_.op("ScatterElements", s + "sum", {zeros_nh_, a.expanded, e},
                         {attr_int("axis", 0), attr_string("reduction", "add")});
        };
        switch (p_.aggregation) {
            case Aggregation::sum:
                return {sum()};
            case Aggregation::mean:
                return {b_.op("Div", s + "mean", {sum(), a.mean_divisor})};
            case Aggregation::max:
                return {segment_max(s, a, e)};
            case Aggregation::sum_max: {
                auto total = sum();
                return {total, segment_max(s, a, e)};
            }
        }
        HEPGNN_INTERNAL_CHECK(false, "unhandled aggregation {}", static_cast<int>(p_.aggregation));
        return {};
    }

    // Note [ONNX graph]: a running max over the edges sorted by node: m[i] = max(m[i], m[j])
    // with j = max(i - shift, 0) when position j holds the same node (else j = i, a no-op),
    // for shift = 1, 2, 4, ... while shift < max degree (Hillis-Steele). Segments are
    // contiguous, so a clamped j is still inside i's segment, and max is idempotent: after
    // the loop each segment's last entry is the max of the whole segment. Per step, one row
    // Gather and one Max of [E, H]; the index arithmetic is on [E] integers.
    std::string segment_max(const std::string& s, const AggregationIndex& a, const std::string& e) {
        const auto sorted = gather(e, a.perm, s + "max/sorted");
        ox::GraphProto body;
        body.set_name(s + "max/body");
        GraphBuilder bb(b_.names(), &body);
        const auto p = s + "max/body/";
        const std::vector<Dim> scalar;
        const std::string iter = p + "iteration", cond = p + "condition", shift = p + "shift",
                          m = p + "running_max";
        for (const auto& n : {iter, cond, shift, m}) bb.declare(n);
        set_value_info(body.add_input(), iter, ox::TensorProto::INT64, &scalar);
        set_value_info(body.add_input(), cond, ox::TensorProto::BOOL, &scalar);
        set_value_info(body.add_input(), shift, ox::TensorProto::INT64, &scalar);
        // [?, H]: the carried shape, for shape inference (libonnx 1.12 infers nothing through
        // Loop; newer versions do).
        const std::vector<Dim> row_shape = {{}, {p_.h, ""}};
        set_value_info(body.add_input(), m, ox::TensorProto::FLOAT, &row_shape);

        const auto positions = edge_positions();
        const auto back =
            bb.op("Max", p + "back",
                  {bb.op("Sub", p + "back_unclamped", {positions, shift}), bb.i64_scalar(0)});
        const auto same =
            bb.op("Equal", p + "same_node",
                  {bb.op("Gather", p + "back_node", {a.sorted_nodes, back}, {attr_int("axis", 0)}),
                   a.sorted_nodes});
        const auto source = bb.op("Where", p + "source", {same, back, positions});
        const auto m_next =
            bb.op("Max", p + "next_max",
                  {m, bb.op("Gather", p + "source_max", {m, source}, {attr_int("axis", 0)})});
        const auto shift_next = bb.op("Mul", p + "next_shift", {shift, bb.i64_scalar(2)});
        const auto cond_next = bb.op("Less", p + "next_condition", {shift_next, a.max_degree});
        set_value_info(body.add_output(), cond_next, ox::TensorProto::BOOL, &scalar);
        set_value_info(body.add_output(), shift_next, ox::TensorProto::INT64, &scalar);
        set_value_info(body.add_output(), m_next, ox::TensorProto::FLOAT, &row_shape);

        const auto loop =
            b_.node("Loop", s + "max/loop", {"", a.more_than_one, b_.i64_scalar(1), sorted},
                    {attr_graph("body", std::move(body))}, {s + "max/shift", s + "max/scan"});
        const auto rows = b_.op("Concat", s + "max/scan_and_zeros",
                                {loop[1], b_.f32(std::vector<float>(p_.h, 0.f), {1, p_.h})},
                                {attr_int("axis", 0)});
        return gather(rows, a.last, s + "max");
    }

    std::string mlp(const MlpSpec& spec, const std::string& scope, std::string z) {
        const auto s = scope + "/" + spec.module + "/";
        const size_t n = spec.sizes.size();
        for (size_t i = 0; i < n; ++i) {
            z = b_.op("Gemm", fmt::format("{}linear{}", s, i),
                      {z, spec.param("linear", i, "weight"), spec.param("linear", i, "bias")},
                      {attr_int("transB", 1)});
            if (i + 1 == n && !spec.output_activation) break;
            if (p_.layer_norm)
                z = layer_norm(fmt::format("{}norm{}", s, i), z, spec.param("norm", i, "weight"),
                               spec.param("norm", i, "bias"));
            z = activation(fmt::format("{}act{}", s, i), z);
        }
        return z;
    }

    std::string layer_norm(const std::string& name, const std::string& z, const std::string& w,
                           const std::string& bias) {
        if (opset_ >= 17)
            return b_.op("LayerNormalization", name, {z, w, bias},
                         {attr_int("axis", -1), attr_float("epsilon", kLayerNormEps)});
        // Opset 16 has no LayerNormalization: torch's formula with the biased variance.
        const auto axes = attr_ints("axes", {-1});
        const auto mean = b_.op("ReduceMean", name + "/mean", {z}, {axes});
        const auto d = b_.op("Sub", name + "/centered", {z, mean});
        const auto var = b_.op("ReduceMean", name + "/variance",
                               {b_.op("Mul", name + "/squared", {d, d})}, {axes});
        const auto stddev =
            b_.op("Sqrt", name + "/stddev",
                  {b_.op("Add", name + "/variance_eps", {var, b_.f32({kLayerNormEps}, {})})});
        const auto normed = b_.op("Div", name + "/normalized", {d, stddev});
        return b_.op("Add", name, {b_.op("Mul", name + "/scaled", {normed, w}), bias});
    }

    std::string activation(const std::string& name, const std::string& z) {
        switch (p_.activation) {
            case Activation::relu:
                return b_.op("Relu", name, {z});
            case Activation::tanh:
                return b_.op("Tanh", name, {z});
            case Activation::silu:
                return b_.op("Mul", name, {z, b_.op("Sigmoid", name + "/sigmoid", {z})});
        }
        HEPGNN_INTERNAL_CHECK(false, "unhandled activation {}", static_cast<int>(p_.activation));
        return {};
    }

    GraphBuilder& b_;
    const Plan& p_;
    int opset_;
    std::string senders_, receivers_, num_nodes_, num_edges_, num_edges_scalar_, edge_positions_,
        zeros_nh_;
};

std::string config_json(const ModelConfig& c, int opset) {
    // Every string here was checked against a fixed list: no escaping needed.
    return fmt::format(
        "{{\"name\": \"{}\", \"input_dim\": {}, \"hidden_dim\": {}, \"n_mlp_layers\": {}, "
        "\"n_graph_iters\": {}, \"aggregation\": \"{}\", \"activation\": \"{}\", "
        "\"layer_norm\": {}, \"edge_features\": \"{}\", \"opset\": {}}}",
        c.name, c.input_dim, c.hidden_dim, c.n_mlp_layers, c.n_graph_iters, c.aggregation,
        c.activation, c.layer_norm, c.edge_features, opset);
}

}  // namespace

std::vector<std::pair<std::string, std::vector<int64_t>>> interaction_network_parameter_shapes(
    const ModelConfig& config) {
    return parameter_shapes(make_plan(config));
}

std::string interaction_network_onnx(const ModelConfig& config, const ParameterMap& params,
                                     int opset,
                                     const std::map<std::string, std::string>& metadata) {
    HEPGNN_CHECK(opset == 16 || opset == 17,
                 "ONNX export: opset {} is not supported; use 16 or 17 (ScatterElements' add "
                 "reduction needs 16; libonnx 1.12 knows opsets up to 17)",
                 opset);
    const Plan plan = make_plan(config);
    const ShapeList shapes = parameter_shapes(plan);
    check_parameters(config, shapes, params);

    ox::ModelProto model;
    model.set_ir_version(kIrVersion);
    model.set_producer_name("hepgnn");
    model.set_model_version(1);
    auto* opset_import = model.add_opset_import();
    opset_import->set_domain("");
    opset_import->set_version(opset);
    model.set_doc_string(fmt::format(
        "hepgnn {}. Inputs: x float32 [N, {}] node features, edge_index int64 [2, E] (row 0 "
        "senders, row 1 receivers). Output: logits float32 [E], one per edge (apply a sigmoid "
        "for scores).",
        describe(config), config.input_dim));
    auto* meta = model.add_metadata_props();
    meta->set_key("hepgnn.model_config");
    meta->set_value(config_json(config, opset));
    for (const auto& [key, value] : metadata) {
        auto* prop = model.add_metadata_props();
        prop->set_key(key);
        prop->set_value(value);
    }

    ox::GraphProto* graph = model.mutable_graph();
    graph->set_name("interaction_network");
    Names names;
    names.main = graph;
    const std::vector<Dim> x_shape = {{-1, "N"}, {config.input_dim, ""}};
    const std::vector<Dim> index_shape = {{2, ""}, {-1, "E"}};
    const std::vector<Dim> logits_shape = {{-1, "E"}};
    set_value_info(graph->add_input(), "x", ox::TensorProto::FLOAT, &x_shape);
    set_value_info(graph->add_input(), "edge_index", ox::TensorProto::INT64, &index_shape);
    set_value_info(graph->add_output(), "logits", ox::TensorProto::FLOAT, &logits_shape);
    names.used = {"x", "edge_index"};
    for (const auto& [name, shape] : shapes) {
        names.used.insert(name);
        *graph->add_initializer() = f32_tensor(name, shape, params.at(name).values);
    }

    GraphBuilder builder(names, graph);
    Emitter(builder, plan, opset).build(mlp_specs(plan));

    try {
        ox::checker::check_model(model);
    } catch (const std::exception& e) {
        HEPGNN_FAIL(
            "ONNX export: libonnx's checker rejects the exported graph (a bug in "
            "hepgnn's exporter): {}",
            e.what());
    }
    try {
        // Strict: node-level inference errors and type mismatches throw; data propagation
        // carries N and E through Shape/Concat/ConstantOfShape, so the inferred logits
        // shape is checked against the declared [E]. On a copy: the file stays free of
        // inferred value_info (ONNX Runtime infers shapes itself).
        ox::ModelProto inferred = model;
        ox::shape_inference::InferShapes(inferred, ox::OpSchemaRegistry::Instance(),
                                         ox::ShapeInferenceOptions(true, 1, true));
    } catch (const std::exception& e) {
        HEPGNN_FAIL(
            "ONNX export: libonnx's shape inference rejects the exported graph (a bug in "
            "hepgnn's exporter): {}",
            e.what());
    }

    const size_t size = model.ByteSizeLong();
    HEPGNN_CHECK(size <= static_cast<size_t>(INT_MAX),
                 "ONNX export: the model would take {} bytes, over protobuf's 2 GiB limit", size);
    std::string bytes;
    HEPGNN_CHECK(model.SerializeToString(&bytes), "ONNX export: protobuf failed to serialize");
    return bytes;
}

void write_interaction_network_onnx(const ModelConfig& config, const ParameterMap& params,
                                    const std::filesystem::path& out, int opset,
                                    const std::map<std::string, std::string>& metadata) {
    const std::string bytes = interaction_network_onnx(config, params, opset, metadata);
    write_file_atomically(out, bytes, "ONNX model");
}

}  // namespace hepgnn::models
