// The model's input: one batch of event graphs merged into a single disjoint
// graph, as tensors (Note [Torch at the batch boundary]: data/ hands plain
// buffers to trainer/, which makes these tensors).
//
// Message passing needs sums over the edges entering and leaving each node.
// MessagePassingIndex holds, for receivers and for senders, the edges grouped
// by node (a permutation plus CSR row pointers), built once per batch by a
// counting sort, so segment sums are parallel over nodes, deterministic, and
// never use atomics (Note [Segment sums]).
#pragma once

#include <torch/types.h>

namespace hepgnn::models {

struct SegmentIndex {
    torch::Tensor perm;          // int64 [E]: edge ids grouped by node, ascending within a node
    torch::Tensor rowptr;        // int64 [N+1]: node n owns perm[rowptr[n] : rowptr[n+1]]
    torch::Tensor node_of_edge;  // int64 [E]: the node of each edge, in edge order (the
                                 // senders or receivers themselves; used off the CPU)

    int64_t num_nodes() const { return rowptr.size(0) - 1; }
    int64_t num_edges() const { return perm.size(0); }
    SegmentIndex to(const torch::Device& device) const;
};

struct MessagePassingIndex {
    SegmentIndex by_receiver;
    SegmentIndex by_sender;

    /// Counting sort of `senders`/`receivers` (int64 [E], values in [0, n_nodes)), O(E + N),
    /// stable. Throws hepgnn::Error for an index out of range. Tensors on another device are
    /// sorted on the CPU and the result is moved back.
    static MessagePassingIndex build(const torch::Tensor& senders, const torch::Tensor& receivers,
                                     int64_t n_nodes);
    MessagePassingIndex to(const torch::Device& device) const;
};

struct GraphInput {
    torch::Tensor x;          // float32 [N, F]
    torch::Tensor senders;    // int64 [E]
    torch::Tensor receivers;  // int64 [E]
    MessagePassingIndex index;

    int64_t num_nodes() const { return x.size(0); }
    int64_t num_edges() const { return senders.size(0); }
    /// Builds `index` from senders/receivers. Checks shapes and types (x floating [N, F],
    /// senders/receivers integral [E], indices in [0, N)) and throws hepgnn::Error naming the
    /// tensor; integral indices of another type are converted to int64.
    static GraphInput make(torch::Tensor x, torch::Tensor senders, torch::Tensor receivers);
    GraphInput to(const torch::Device& device) const;
};

}  // namespace hepgnn::models
