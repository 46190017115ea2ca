// The two residual updates of a message-passing iteration, each as one autograd operation.
//
// Note [Fused residual updates]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// Each iteration of the interaction network updates every edge, then every node:
//     e' = e + edge_net([x_s | x_r | e])      x' = x + node_net([x | a_in | a_out])
// where each net is L blocks of [Linear, LayerNorm, activation]. Composed of the other fused ops
// (split product, gather_add, cat, layer_norm_activation, residual add), that is about a dozen
// passes over [rows, H] tensors forward and twenty backward, each reading or writing a whole
// tensor that does not fit in cache (30k edges x 64 floats = 7.7 MB). Here the rows run in
// chunks of 256 (64 KB per [256, H] buffer, in L2), and each chunk goes through the whole MLP
// before the next one starts:
//   forward   z_0 = (first layer's product, below);  y_l = LNact_l(z_l);  z_l = y_{l-1} W_l^T;
//             out = residual + y_{L-1}
//   backward  per chunk, from the saved z_l and per-row mean and rstd: recompute the y_l, then
//             layer by layer down: LN backward, dW_l += dz_l^T y_{l-1}, dy_{l-1} = dz_l W_l;
//             the first layer's input gradient gets the residual's share added.
// The first layer differs:
//   edges  z_0 = e W_e^T + a[s] + b[r], with a = x W_s^T and b = x W_r^T node products computed
//          once outside; backward gives de = de' + dz_0 W_e, and grad a and grad b are the
//          segment sums of dz_0 over senders and receivers.
//   nodes  z_0 = [x | a_in | a_out] W_0^T, the concatenation built per chunk in cache (no [N, 3H]
//          tensor); backward splits dz_0 W_0 into the three inputs' gradients, x's plus dx'.
// So forward reads the inputs and writes z_0..z_{L-1} and the output, and backward reads the
// inputs, the output gradient and the z_l, and writes the input gradients: the intermediate
// activations never leave the cache, and an op keeps L [rows, H] tensors for backward where the
// composed ops keep 2L. Each output row is computed as the composed ops compute it (the same
// products in the same order), so forward is bit-identical to theirs. Column sums (weight,
// bias, gamma, beta gradients) run over fixed blocks of rows and add the block partials in
// block order: gradients are bit-identical for any number of threads, as Note [Segment sums].
//
// CPU, float32, widths that the panel kernel takes (models/ops/panel_matmul.hpp), layer norm
// on: the *_applies() functions say when; elsewhere the composed ops run.
#pragma once

#include <torch/types.h>

#include "models/graph_input.hpp"
#include "models/mlp.hpp"

namespace hepgnn::models {

/// Whether fused_edge_update computes e + edge_net([x_s | x_r | e]) for these inputs.
bool fused_edge_update_applies(const MlpImpl& edge_net, const torch::Tensor& x,
                               const torch::Tensor& e);

struct EdgeUpdate {
    torch::Tensor e;        // e + edge_net(...)
    torch::Tensor sum_in;   // [N, H]: the sum of the updated e over each node's incoming edges
    torch::Tensor sum_out;  // over its outgoing edges (both undefined unless asked for)
};

/// e + edge_net([x[senders] | x[receivers] | e]): x [N, H], e [E, H]. Differentiable in x, e
/// and every parameter of edge_net. Only where fused_edge_update_applies(). With `sums`, also
/// the segment_sum_in_out of the result in the same autograd operation (the sum and mean
/// aggregations): backward then adds the sums' gradient to each chunk's in cache.
EdgeUpdate fused_edge_update(MlpImpl& edge_net, const torch::Tensor& x, const torch::Tensor& e,
                             const MessagePassingIndex& index, bool sums);

/// Whether fused_node_update computes x + node_net([x | a_in | a_out]) for these inputs.
bool fused_node_update_applies(const MlpImpl& node_net, const torch::Tensor& x,
                               const torch::Tensor& a_in, const torch::Tensor& a_out);

/// x + node_net([x | a_in | a_out]): x [N, H], a_in and a_out [N, A] (the aggregations).
/// Differentiable in all three and every parameter of node_net. Only where
/// fused_node_update_applies().
torch::Tensor fused_node_update(MlpImpl& node_net, const torch::Tensor& x,
                                const torch::Tensor& a_in, const torch::Tensor& a_out);

}  // namespace hepgnn::models
