// HEP.TrkX's attention GNN, GNNSegmentClassifier (model.name: agnn), with two message-passing
// back-ends that compute the same function:
//   sparse  gathers and deterministic segment sums (Note [Segment sums])
//   dense   the original HEP.TrkX form with incidence matrices Ri, Ro [N, E] and matmuls; it
//           needs O(N E) memory and time and is kept as a reference
#pragma once

#include <string>
#include <vector>

#include "models/gnn_model.hpp"
#include "models/mlp.hpp"

namespace hepgnn::models {

enum class MessagePassing { sparse, dense };

/// "sparse" | "dense"; otherwise hepgnn::Error naming `key`.
MessagePassing parse_message_passing(const std::string& name,
                                     const std::string& key = "model.message_passing");
std::vector<std::string> message_passing_names();

/// With F = input_dim, H = hidden_dim, s/r = senders/receivers, X the input features:
///   input_net  Linear(F, H), [LayerNorm], act                      x = [input_net(X), X]
///   edge_net   Linear(2(H+F), H), 2 x Linear(H, H), Linear(H, 1)   on [x_s, x_r]; hidden
///              layers with [LayerNorm], act; the last Linear is raw (a logit)
///   node_net   Linear(3(H+F), H), 3 x Linear(H, H), all with [LayerNorm], act
/// n_graph_iters times (weights shared):
///   e  = sigmoid(edge_net([x_s, x_r]))                          [E]
///   mi = sum over edges entering each node of e * x_s           (Ri (e * Ro^T x) when dense)
///   mo = sum over edges leaving each node of e * x_r            (Ro (e * Ri^T x) when dense)
///   x  = [node_net([mi, mo, x]) + h, X]    h: the first H columns of x (residual, hidden part)
/// logits = edge_net([x_s, x_r]).
/// HEP.TrkX's depths are fixed (4 edge layers, 4 node layers): model.n_mlp_layers is unused.
/// Weights start as in HEP.TrkX: Xavier-uniform, biases 0.01.
class Agnn : public GnnModel {
public:
    explicit Agnn(ModelConfig config);

    /// Logits [E] in the edge order of `graph`.
    torch::Tensor forward(const GraphInput& graph) override;

    MessagePassing message_passing() const { return message_passing_; }
    Mlp input_net() const { return input_net_; }
    Mlp edge_net() const { return edge_net_; }
    Mlp node_net() const { return node_net_; }

private:
    struct Incidence;  // dense back-end: Ri, Ro
    torch::Tensor iteration(const GraphInput& graph, const Incidence& inc, const torch::Tensor& x);
    torch::Tensor edge_logits(const GraphInput& graph, const Incidence& inc,
                              const torch::Tensor& x);

    MessagePassing message_passing_;
    Mlp input_net_{nullptr}, edge_net_{nullptr}, node_net_{nullptr};
};

}  // namespace hepgnn::models
