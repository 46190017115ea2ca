// The residual edge update of one message-passing iteration as one autograd operation.
//
// Note [Fused edge update]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// Each iteration of the interaction network updates every edge:
//     e' = e + MLP([x_s | x_r | e])          MLP = L blocks of [Linear, LayerNorm, activation]
// Composed of the other fused ops (split product, gather_add, layer_norm_activation, residual
// add), that is about a dozen passes over [E, H] tensors forward and twenty backward, each pass
// reading or writing a whole tensor that does not fit in cache (30k edges x 64 floats = 7.7 MB).
// Here the edges run in chunks of 256 rows (64 KB per [256, H] buffer, in L2), and each chunk
// goes through the whole MLP before the next one starts:
//   forward   z_0 = e W_e^T + a[s] + b[r];  y_l = LNact_l(z_l);  z_l = y_{l-1} W_l^T;  e' = e + y
//             (a = x W_s^T and b = x W_r^T are node products, computed once outside)
//   backward  per chunk, from the saved z_l and per-row mean and rstd: recompute the y_l, then
//             layer by layer down: LN backward, dW_l += dz_l^T y_{l-1}, dy_{l-1} = dz_l W_l;
//             de = de' + dz_0 W_e; then grad a and grad b are the segment sums of dz_0.
// So forward reads e and writes z_0..z_{L-1} and e', and backward reads e, de' and the z_l and
// writes dz_0 and de: the intermediate activations never leave the cache, and the op keeps L
// [E, H] tensors for backward where the composed ops keep 2L.
// Every output row is computed as the composed ops compute it (the same products in the same
// order), so the forward is bit-identical to theirs. Column sums (weight, bias, gamma, beta
// gradients) run over fixed blocks of rows and add the block partials in block order:
// gradients are bit-identical for any number of threads, as Note [Segment sums].
//
// CPU, float32, widths that the panel kernel takes (models/ops/panel_matmul.hpp), layer norm
// on: fused_edge_update_applies() says when; elsewhere the composed ops run.
#pragma once

#include <torch/types.h>

#include "models/graph_input.hpp"
#include "models/mlp.hpp"

namespace hepgnn::models {

/// Whether fused_edge_update computes e + edge_net([x_s | x_r | e]) for these inputs.
bool fused_edge_update_applies(const MlpImpl& edge_net, const torch::Tensor& x,
                               const torch::Tensor& e);

/// e + edge_net([x[senders] | x[receivers] | e]): x [N, H], e [E, H]. Differentiable in x, e
/// and every parameter of edge_net. Only where fused_edge_update_applies().
torch::Tensor fused_edge_update(MlpImpl& edge_net, const torch::Tensor& x, const torch::Tensor& e,
                                const MessagePassingIndex& index);

}  // namespace hepgnn::models
