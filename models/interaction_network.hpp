// The interaction network of DESIGN §3.3 (model.name: interaction_network).
//
// forward() computes exactly the function of §3.3 with the fast formulation: every Linear
// over per-edge concatenations is split by columns (Note [Split linear]) and aggregations use
// the deterministic segment kernels (Note [Segment sums]). plain_forward() computes the same
// function the textbook way and is the reference for tests and benchmarks.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/gnn_model.hpp"
#include "models/mlp.hpp"
#include "models/ops/interaction_network_inference.hpp"

namespace hepgnn::models {

/// Parameters (defaults: F=3, H=64, L=2, 8 iterations, layer norm, ReLU; 63,425 in all):
///   node_encoder     mlp(F, H, L)
///   edge_encoder     mlp(2H + C, H, L)        on [x_s, x_r] (+ [x_r - x_s] of the raw
///                                             features: C = F with edge_features = differences)
///   edge_net         mlp(3H, H, L)            on [x_s, x_r, e]
///   node_net         mlp(kH, H, L)            on [x, agg_in, agg_out]; k = 3, or 5 for sum_max
///                                             ([x, sum_in, max_in, sum_out, max_out])
///   edge_classifier  mlp(3H, H, L-1) + Linear(H, 1), one Mlp whose last Linear is raw
/// with model.checkpointing, each message-passing iteration is recomputed in backward
/// (Note [Checkpointing]).
class InteractionNetwork : public GnnModel {
public:
    explicit InteractionNetwork(ModelConfig config);

    /// Logits [E] in the edge order of `graph`. Under no-grad on the CPU, the fused inference
    /// forward of models/ops/ (Note [Inference forward]); otherwise the differentiable one.
    torch::Tensor forward(const GraphInput& graph) override;
    /// The differentiable forward (with model.checkpointing, Note [Checkpointing]), in any mode.
    torch::Tensor differentiable_forward(const GraphInput& graph);

    /// The network's shape for ops::interaction_network_inference and the custom op.
    ops::InteractionNetworkShape shape() const;
    bool set_bfloat16_inference(bool on) override {
        bfloat16_inference_ = on;
        return true;
    }

    /// C: the width of the edge features fed to the edge encoder with [x_s, x_r] (0 without;
    /// F for model.edge_features = differences).
    int64_t edge_feature_dim() const;
    /// [E, C] edge features of `graph` (x_r - x_s of its raw node features), or undefined.
    torch::Tensor edge_features(const GraphInput& graph) const;

    Aggregation aggregation() const { return aggregation_; }
    Mlp node_encoder() const { return node_encoder_; }
    Mlp edge_encoder() const { return edge_encoder_; }
    Mlp edge_net() const { return edge_net_; }
    Mlp node_net() const { return node_net_; }
    Mlp edge_classifier() const { return edge_classifier_; }

private:
    /// One message-passing iteration: (x, e) -> (x', e').
    std::pair<torch::Tensor, torch::Tensor> iteration(const GraphInput& graph,
                                                      const torch::Tensor& x,
                                                      const torch::Tensor& e,
                                                      const torch::Tensor& inv_in_degree,
                                                      const torch::Tensor& inv_out_degree);
    torch::Tensor aggregate(const torch::Tensor& e, const SegmentIndex& index,
                            const torch::Tensor& inv_degree);

    Aggregation aggregation_;
    bool edge_differences_ = false;  // model.edge_features = differences
    bool bfloat16_inference_ = false;
    Mlp node_encoder_{nullptr}, edge_encoder_{nullptr}, edge_net_{nullptr}, node_net_{nullptr},
        edge_classifier_{nullptr};
};

/// The same function as model.forward(graph), with the same parameters, computed the plain
/// way: torch::cat before every MLP, index_select for gathers, index_add_ (scatter_reduce for
/// max) for aggregations, no checkpointing. The reference for tests and benchmarks.
torch::Tensor plain_forward(InteractionNetwork& model, const GraphInput& graph);

}  // namespace hepgnn::models
