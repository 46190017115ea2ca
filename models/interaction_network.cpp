#include "models/interaction_network.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "models/checkpoint.hpp"
#include "models/fused_residual_update.hpp"
#include "models/ops/interaction_network_inference.hpp"
#include "models/segment_ops.hpp"

namespace hepgnn::models {

namespace {

void check_graph(const ModelConfig& config, const GraphInput& graph) {
    HEPGNN_CHECK(graph.x.defined() && graph.x.dim() == 2 && graph.x.size(1) == config.input_dim,
                 "{}: the graph has node features of shape {} but the model expects [N, {}] "
                 "(model.input_dim); check it against the graph file's feature_names",
                 config.name, graph.x.defined() ? c10::str(graph.x.sizes()) : "undefined",
                 config.input_dim);
}

/// 1 / max(degree, 1) per node, [N, 1]: mean = sum * this (0 for nodes without edges).
torch::Tensor inverse_degree(const SegmentIndex& index, const torch::TensorOptions& options) {
    const int64_t n = index.num_nodes();
    const auto degree = index.rowptr.slice(0, 1, n + 1) - index.rowptr.slice(0, 0, n);
    return degree.clamp_min(1).to(options).reciprocal().unsqueeze(1);
}

std::vector<torch::Tensor> concat(std::vector<torch::Tensor> a,
                                  const std::vector<torch::Tensor>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

}  // namespace

InteractionNetwork::InteractionNetwork(ModelConfig config) : GnnModel(std::move(config)) {
    config_.name = "interaction_network";  // the config describes the model built
    validate_model_config(config_);
    aggregation_ = parse_aggregation(config_.aggregation);
    edge_differences_ = parse_edge_differences(config_.edge_features);
    const Activation act = parse_activation(config_.activation);
    const int64_t f = config_.input_dim, h = config_.hidden_dim, l = config_.n_mlp_layers;
    const bool ln = config_.layer_norm;
    const int64_t node_in = aggregation_ == Aggregation::sum_max ? 5 * h : 3 * h;

    node_encoder_ = register_module("node_encoder", mlp(f, h, l, act, ln));
    edge_encoder_ = register_module("edge_encoder", mlp(2 * h + edge_feature_dim(), h, l, act, ln));
    edge_net_ = register_module("edge_net", mlp(3 * h, h, l, act, ln));
    node_net_ = register_module("node_net", mlp(node_in, h, l, act, ln));

    MlpOptions head;
    head.in = 3 * h;
    head.sizes.assign(static_cast<size_t>(l - 1), h);
    head.sizes.push_back(1);
    head.activation = act;
    head.layer_norm = ln;
    head.output_activation = false;
    edge_classifier_ = register_module("edge_classifier", Mlp(head));
}

torch::Tensor InteractionNetwork::aggregate(const torch::Tensor& e, const SegmentIndex& index,
                                            const torch::Tensor& inv_degree) {
    const int64_t n = index.num_nodes();
    switch (aggregation_) {
        case Aggregation::sum:
            return segment_sum(e, index, n);
        case Aggregation::mean:
            return segment_sum(e, index, n) * inv_degree;
        case Aggregation::max:
            return segment_max(e, index, n);
        case Aggregation::sum_max:
            return torch::cat({segment_sum(e, index, n), segment_max(e, index, n)}, 1);
    }
    HEPGNN_INTERNAL_CHECK(false, "unhandled aggregation {}", static_cast<int>(aggregation_));
    return {};
}

std::pair<torch::Tensor, torch::Tensor> InteractionNetwork::iteration(
    const GraphInput& graph, const torch::Tensor& x, const torch::Tensor& e,
    const torch::Tensor& inv_in_degree, const torch::Tensor& inv_out_degree) {
    // Note [Fused residual updates]
    const bool sums = aggregation_ == Aggregation::sum || aggregation_ == Aggregation::mean;
    torch::Tensor e_next, a_in, a_out;
    if (!fused_edge_update_applies(*edge_net_, x, e)) {
        const auto& first = edge_net_->first_linear();
        e_next =
            e + edge_net_->after_first_linear(edge_linear(first->weight, {}, x, graph.index, e));
    } else {
        auto update = fused_edge_update(*edge_net_, x, e, graph.index, sums);
        e_next = std::move(update.e);
        a_in = std::move(update.sum_in);
        a_out = std::move(update.sum_out);
    }
    if (sums) {
        if (!a_in.defined()) std::tie(a_in, a_out) = segment_sum_in_out(e_next, graph.index);
        if (aggregation_ == Aggregation::mean) {
            a_in = a_in * inv_in_degree;
            a_out = a_out * inv_out_degree;
        }
    } else {
        a_in = aggregate(e_next, graph.index.by_receiver, inv_in_degree);
        a_out = aggregate(e_next, graph.index.by_sender, inv_out_degree);
    }
    auto x_next = fused_node_update_applies(*node_net_, x, a_in, a_out)
                      ? fused_node_update(*node_net_, x, a_in, a_out)
                      : x + node_net_->forward(torch::cat({x, a_in, a_out}, 1));
    return {std::move(x_next), std::move(e_next)};
}

int64_t InteractionNetwork::edge_feature_dim() const {
    return edge_differences_ ? config_.input_dim : 0;
}

torch::Tensor InteractionNetwork::edge_features(const GraphInput& graph) const {
    if (edge_feature_dim() == 0) return {};
    return graph.x.index_select(0, graph.receivers) - graph.x.index_select(0, graph.senders);
}

ops::InteractionNetworkShape InteractionNetwork::shape() const {
    ops::InteractionNetworkShape s;
    s.n_graph_iters = config_.n_graph_iters;
    s.n_mlp_layers = config_.n_mlp_layers;
    s.aggregation = config_.aggregation;
    s.activation = config_.activation;
    s.layer_norm = config_.layer_norm;
    s.edge_differences = edge_feature_dim() > 0;
    s.bfloat16_products = bfloat16_inference_;
    return s;
}

torch::Tensor InteractionNetwork::forward(const GraphInput& graph) {
    check_graph(config_, graph);
    // Without autograd (evaluate, infer, validation), the fused forward of Note [Inference
    // forward]: same function, no activations kept, a fraction of the memory traffic.
    const auto type = graph.x.scalar_type();
    if (!torch::GradMode::is_enabled() && graph.x.is_cpu() &&
        (type == torch::kFloat || type == torch::kDouble)) {
        const auto& ix = graph.index;
        return ops::interaction_network_inference(
            graph.x, graph.senders, graph.receivers, {ix.by_receiver.perm, ix.by_receiver.rowptr},
            {ix.by_sender.perm, ix.by_sender.rowptr}, parameters(), shape());
    }
    return differentiable_forward(graph);
}

torch::Tensor InteractionNetwork::differentiable_forward(const GraphInput& graph) {
    check_graph(config_, graph);
    torch::Tensor inv_in, inv_out;
    if (aggregation_ == Aggregation::mean) {
        inv_in = inverse_degree(graph.index.by_receiver, graph.x.options());
        inv_out = inverse_degree(graph.index.by_sender, graph.x.options());
    }

    const auto d = edge_features(graph);
    auto x = node_encoder_->forward(graph.x);
    // With checkpointing, the E-sized stages before and after the iterations are recomputed
    // in backward too: each keeps ~4 [E, H] activations otherwise, as much as 4 iterations.
    auto edge_encoder = [this, graph, d](const std::vector<torch::Tensor>& in) {
        const auto& enc = edge_encoder_->first_linear();
        return std::vector<torch::Tensor>{
            edge_encoder_->after_first_linear(edge_linear(enc->weight, {}, in[0], graph.index, d))};
    };
    auto e = config_.checkpointing ? checkpoint(edge_encoder, {x}, edge_encoder_->parameters())[0]
                                   : edge_encoder({x})[0];

    const std::vector<torch::Tensor> shared =
        config_.checkpointing ? concat(edge_net_->parameters(), node_net_->parameters())
                              : std::vector<torch::Tensor>{};
    for (int64_t it = 0; it < config_.n_graph_iters; ++it) {
        if (config_.checkpointing) {
            // The closure owns a copy of the graph's tensor handles: the caller's GraphInput
            // may be gone by the time backward reruns it.
            auto out = checkpoint(
                [this, graph, inv_in, inv_out](const std::vector<torch::Tensor>& in) {
                    auto [x1, e1] = iteration(graph, in[0], in[1], inv_in, inv_out);
                    return std::vector<torch::Tensor>{x1, e1};
                },
                {x, e}, shared);
            x = out[0];
            e = out[1];
        } else {
            std::tie(x, e) = iteration(graph, x, e, inv_in, inv_out);
        }
    }

    auto classifier = [this, graph](const std::vector<torch::Tensor>& in) {
        const auto& head = edge_classifier_->first_linear();
        return std::vector<torch::Tensor>{edge_classifier_->after_first_linear(
            edge_linear(head->weight, {}, in[0], graph.index, in[1]))};
    };
    auto logits = config_.checkpointing
                      ? checkpoint(classifier, {x, e}, edge_classifier_->parameters())[0]
                      : classifier({x, e})[0];
    return logits.squeeze(1);
}

namespace {

torch::Tensor plain_aggregate(Aggregation aggregation, const torch::Tensor& e,
                              const torch::Tensor& node, int64_t n_nodes) {
    auto sum = [&] {
        return torch::zeros({n_nodes, e.size(1)}, e.options()).index_add_(0, node, e);
    };
    auto max = [&] {
        return torch::zeros({n_nodes, e.size(1)}, e.options())
            .scatter_reduce(0, node.unsqueeze(1).expand_as(e), e, "amax", /*include_self=*/false);
    };
    switch (aggregation) {
        case Aggregation::sum:
            return sum();
        case Aggregation::mean: {
            auto degree = torch::zeros({n_nodes}, e.options())
                              .index_add_(0, node, torch::ones_like(e.select(1, 0)));
            return sum() / degree.clamp_min(1).unsqueeze(1);
        }
        case Aggregation::max:
            return max();
        case Aggregation::sum_max:
            return torch::cat({sum(), max()}, 1);
    }
    HEPGNN_INTERNAL_CHECK(false, "unhandled aggregation {}", static_cast<int>(aggregation));
    return {};
}

}  // namespace

torch::Tensor plain_forward(InteractionNetwork& model, const GraphInput& graph) {
    check_graph(model.config(), graph);
    const auto& s = graph.senders;
    const auto& r = graph.receivers;
    const int64_t n = graph.num_nodes();

    auto x = model.node_encoder()->plain_forward(graph.x);
    std::vector<torch::Tensor> encoder_in{x.index_select(0, s), x.index_select(0, r)};
    if (model.edge_feature_dim() > 0) encoder_in.push_back(model.edge_features(graph));
    auto e = model.edge_encoder()->plain_forward(torch::cat(encoder_in, 1));
    for (int64_t it = 0; it < model.config().n_graph_iters; ++it) {
        e = e + model.edge_net()->plain_forward(
                    torch::cat({x.index_select(0, s), x.index_select(0, r), e}, 1));
        auto a_in = plain_aggregate(model.aggregation(), e, r, n);
        auto a_out = plain_aggregate(model.aggregation(), e, s, n);
        x = x + model.node_net()->plain_forward(torch::cat({x, a_in, a_out}, 1));
    }
    return model.edge_classifier()
        ->plain_forward(torch::cat({x.index_select(0, s), x.index_select(0, r), e}, 1))
        .squeeze(1);
}

}  // namespace hepgnn::models
