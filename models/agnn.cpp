#include "models/agnn.hpp"

#include <torch/nn/init.h>

#include <fmt/format.h>

#include "core/error.hpp"
#include "models/checkpoint.hpp"
#include "models/segment_ops.hpp"

namespace hepgnn::models {

std::vector<std::string> message_passing_names() {
    return {"sparse", "dense"};
}

MessagePassing parse_message_passing(const std::string& name, const std::string& key) {
    if (name == "sparse") return MessagePassing::sparse;
    if (name == "dense") return MessagePassing::dense;
    HEPGNN_FAIL("{}: unknown message passing '{}'; expected one of: {}", key, name,
                fmt::join(message_passing_names(), ", "));
}

struct Agnn::Incidence {
    torch::Tensor ri;  // [N, E]: ri[r_e, e] = 1
    torch::Tensor ro;  // [N, E]: ro[s_e, e] = 1
};

namespace {

torch::Tensor incidence(const torch::Tensor& node, int64_t n_nodes,
                        const torch::TensorOptions& options) {
    const int64_t n_edges = node.size(0);
    auto m = torch::zeros({n_nodes, n_edges}, options);
    auto edges = torch::arange(n_edges, node.options());
    return m.index_put_({node, edges}, torch::ones({}, options));
}

}  // namespace

Agnn::Agnn(ModelConfig config) : GnnModel(std::move(config)) {
    config_.name = "agnn";  // the config describes the model built (checkpoints record it)
    validate_model_config(config_);
    message_passing_ = parse_message_passing(config_.message_passing);
    const Activation act = parse_activation(config_.activation);
    const int64_t f = config_.input_dim, h = config_.hidden_dim, d = h + f;
    const bool ln = config_.layer_norm;

    MlpOptions input{f, {h}, act, ln, /*output_activation=*/true};
    MlpOptions edge{2 * d, {h, h, h, 1}, act, ln, /*output_activation=*/false};
    MlpOptions node{3 * d, {h, h, h, h}, act, ln, /*output_activation=*/true};
    input_net_ = register_module("input_net", Mlp(input));
    edge_net_ = register_module("edge_net", Mlp(edge));
    node_net_ = register_module("node_net", Mlp(node));

    torch::NoGradGuard no_grad;
    for (const Mlp& m : {input_net_, edge_net_, node_net_}) {
        for (const auto& linear : m->linears()) {
            torch::nn::init::xavier_uniform_(linear->weight);
            linear->bias.fill_(0.01);
        }
    }
}

torch::Tensor Agnn::edge_logits(const GraphInput& graph, const Incidence& inc,
                                const torch::Tensor& x) {
    if (message_passing_ == MessagePassing::dense) {
        auto bo = torch::mm(inc.ro.t(), x);
        auto bi = torch::mm(inc.ri.t(), x);
        return edge_net_->forward(torch::cat({bo, bi}, 1)).squeeze(1);
    }
    const auto& first = edge_net_->first_linear();
    return edge_net_->after_first_linear(edge_linear(first->weight, {}, x, graph.index)).squeeze(1);
}

torch::Tensor Agnn::iteration(const GraphInput& graph, const Incidence& inc,
                              const torch::Tensor& x) {
    const int64_t n = graph.num_nodes();
    torch::Tensor mi, mo;
    if (message_passing_ == MessagePassing::dense) {
        // HEP.TrkX's original form: bo = Ro^T x, bi = Ri^T x, mi = Ri (e bo), mo = Ro (e bi).
        auto bo = torch::mm(inc.ro.t(), x);
        auto bi = torch::mm(inc.ri.t(), x);
        auto e = torch::sigmoid(edge_net_->forward(torch::cat({bo, bi}, 1)));  // [E, 1]
        mi = torch::mm(inc.ri, e * bo);
        mo = torch::mm(inc.ro, e * bi);
    } else {
        auto e = torch::sigmoid(edge_logits(graph, inc, x)).unsqueeze(1);  // [E, 1]
        mi = segment_sum(e * gather_rows(x, graph.index.by_sender), graph.index.by_receiver, n);
        mo = segment_sum(e * gather_rows(x, graph.index.by_receiver), graph.index.by_sender, n);
    }
    auto hidden =
        node_net_->forward(torch::cat({mi, mo, x}, 1)) + x.narrow(1, 0, config_.hidden_dim);
    return torch::cat({hidden, graph.x}, 1);
}

torch::Tensor Agnn::forward(const GraphInput& graph) {
    HEPGNN_CHECK(graph.x.defined() && graph.x.dim() == 2 && graph.x.size(1) == config_.input_dim,
                 "agnn: the graph has node features of shape {} but the model expects [N, {}] "
                 "(model.input_dim); check it against the graph file's feature_names",
                 graph.x.defined() ? c10::str(graph.x.sizes()) : "undefined", config_.input_dim);
    Incidence inc;
    if (message_passing_ == MessagePassing::dense) {
        const int64_t n = graph.num_nodes(), e = graph.num_edges();
        const double gib = 2.0 * static_cast<double>(n) * static_cast<double>(e) *
                           static_cast<double>(graph.x.element_size()) / (1024.0 * 1024 * 1024);
        HEPGNN_CHECK(gib <= 8.0,
                     "agnn: model.message_passing=dense needs two {} x {} incidence matrices "
                     "({:.1f} GiB) for this batch; use model.message_passing=sparse, which "
                     "computes the same function in O(E) memory",
                     n, e, gib);
        inc.ri = incidence(graph.receivers, n, graph.x.options());
        inc.ro = incidence(graph.senders, n, graph.x.options());
    }

    auto x = torch::cat({input_net_->forward(graph.x), graph.x}, 1);
    std::vector<torch::Tensor> shared;
    if (config_.checkpointing) {
        shared = edge_net_->parameters();
        const auto node_params = node_net_->parameters();
        shared.insert(shared.end(), node_params.begin(), node_params.end());
    }
    for (int64_t it = 0; it < config_.n_graph_iters; ++it) {
        if (config_.checkpointing) {
            x = checkpoint(
                [this, graph, inc](const std::vector<torch::Tensor>& in) {
                    return std::vector<torch::Tensor>{iteration(graph, inc, in[0])};
                },
                {x}, shared)[0];
        } else {
            x = iteration(graph, inc, x);
        }
    }
    return edge_logits(graph, inc, x);
}

}  // namespace hepgnn::models
