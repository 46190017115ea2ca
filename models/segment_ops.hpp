// Message-passing kernels: differentiable gathers from nodes to edges and reductions from edges
// to nodes, on the CSR index of MessagePassingIndex.
//
// Note [Segment sums]
// ~~~~~~~~~~~~~~~~~~~
// torch's scatter-add (index_add_, scatter_add_) is serial on the CPU and, in parallel, would
// need atomics whose summation order changes from run to run. Here every reduction runs over
// nodes instead: node n owns the edges perm[rowptr[n] : rowptr[n+1]] (a stable counting sort,
// ascending edge ids), one thread computes the whole row of n in that fixed order, and rows are
// split between threads with at::parallel_for. So the result is bit-identical for any number of
// threads, there are no atomics, and no memory is allocated beyond the output. A gather from
// nodes to edges is the adjoint of a segment sum, so each is the other's backward (and both are
// differentiable twice). Rows of 64 floats (the model's width) are summed in registers, with
// the rows of the next edges prefetched: a node's edges lie anywhere in the edge tensor.
//
// Off the CPU the same functions fall back to torch's index_select / index_add_ /
// scatter_reduce, which autograd differentiates; only the CPU path has custom kernels.
//
// Note [Split linear]
// ~~~~~~~~~~~~~~~~~~~
// A Linear applied to the per-edge concatenation [x_s, x_r, c] (x: node rows, c: edge rows)
// equals, with W split into column blocks [W_s | W_r | W_c],
//     W [x_s, x_r, c] + bias = (x W_s^T + bias)[s] + (x W_r^T)[r] + c W_c^T
// The two node products cost N rows instead of E, and the E x 3H concatenation never exists;
// gather_add() does the two gathers and the sums in one pass. The parameters stay one ordinary
// Linear weight [out, 3H], so the model's parameter layout (and checkpoints) equal the plain
// form's.
#pragma once

#include <torch/types.h>

#include <utility>

#include "models/graph_input.hpp"

namespace hepgnn::models {

/// out[n] = sum of values[e] over the edges e of node n (in `index`), in ascending edge order.
/// values: float or double [E, D]; returns [n_nodes, D]; nodes without edges get 0.
torch::Tensor segment_sum(const torch::Tensor& values, const SegmentIndex& index, int64_t n_nodes);

/// {segment_sum over receivers, segment_sum over senders} of values [E, D]: the in- and
/// out-aggregations of message passing in one autograd node, whose backward is one fused pass
/// (grad[e] = grad_in[r[e]] + grad_out[s[e]]).
std::pair<torch::Tensor, torch::Tensor> segment_sum_in_out(const torch::Tensor& values,
                                                           const MessagePassingIndex& index);

/// out[n, d] = max of values[e, d] over the edges e of node n; nodes without edges get 0.
/// The gradient goes to the first edge (lowest id) attaining the maximum; a NaN wins.
/// First-order gradients only. (Off the CPU, ties share the gradient, as in torch.)
torch::Tensor segment_max(const torch::Tensor& values, const SegmentIndex& index, int64_t n_nodes);

/// out[e] = x[node_of_edge[e]]: the row of each edge's node ([N, D] -> [E, D]).
/// Backward: segment_sum over the same index.
torch::Tensor gather_rows(const torch::Tensor& x, const SegmentIndex& index);

/// out[e] = a[senders[e]] + b[receivers[e]] (+ c[e] when c is defined), one fused pass.
/// a, b: [N, D]; c: [E, D] or undefined. Senders and receivers are those of `index`
/// (by_sender.node_of_edge, by_receiver.node_of_edge). Backward: grad_a = segment_sum of
/// the output gradient over senders, grad_b over receivers, grad_c = the output gradient.
torch::Tensor gather_add(const torch::Tensor& a, const torch::Tensor& b,
                         const MessagePassingIndex& index, const torch::Tensor& c = {});

/// A Linear layer applied to [x[senders], x[receivers], edge_features] per edge, without the
/// concatenation (Note [Split linear]). weight: [out, 2F + C] (C = 0 when edge_features is
/// undefined); bias: [out] or undefined; x: [N, F]; edge_features: [E, C] or undefined.
torch::Tensor edge_linear(const torch::Tensor& weight, const torch::Tensor& bias,
                          const torch::Tensor& x, const MessagePassingIndex& index,
                          const torch::Tensor& edge_features = {});

/// The formulations used off the CPU, with torch's own differentiable ops (index_add_,
/// scatter_reduce, index_select). Public so that tests can check them on the CPU against the
/// kernels; callers use the functions above, which pick the path by device.
namespace fallback {
torch::Tensor segment_sum(const torch::Tensor& values, const SegmentIndex& index, int64_t n_nodes);
torch::Tensor segment_max(const torch::Tensor& values, const SegmentIndex& index, int64_t n_nodes);
torch::Tensor gather_rows(const torch::Tensor& x, const SegmentIndex& index);
torch::Tensor gather_add(const torch::Tensor& a, const torch::Tensor& b,
                         const MessagePassingIndex& index, const torch::Tensor& c = {});
}  // namespace fallback

}  // namespace hepgnn::models
