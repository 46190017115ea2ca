#include "models/graph_input.hpp"

#include <ATen/ATen.h>

#include "core/error.hpp"
#include "models/ops/segment_kernels.hpp"

namespace hepgnn::models {
namespace {

// Note [Segment sums] (see segment_ops.hpp): a stable counting sort groups the edges by node.
SegmentIndex counting_sort(const torch::Tensor& node_of_edge, int64_t n_nodes, const char* what) {
    const int64_t n_edges = node_of_edge.size(0);
    auto rowptr = torch::empty({n_nodes + 1}, torch::kInt64);
    auto perm = torch::empty({n_edges}, torch::kInt64);
    const int64_t* node = node_of_edge.data_ptr<int64_t>();
    const int64_t bad = ops::group_edges_by_node(node, n_edges, n_nodes, perm.data_ptr<int64_t>(),
                                                 rowptr.data_ptr<int64_t>());
    HEPGNN_CHECK(bad < 0,
                 "graph input: {}[{}] = {} is not a node index (the graph has {} nodes); "
                 "check that edge indices are local to their graph",
                 what, bad, bad < 0 ? 0 : node[bad], n_nodes);
    return {perm, rowptr, node_of_edge};
}

torch::Tensor as_cpu_index(const torch::Tensor& t, const char* what) {
    HEPGNN_CHECK(t.defined(), "graph input: {} is missing", what);
    HEPGNN_CHECK(t.dim() == 1, "graph input: {} must be one-dimensional [E], got shape {}", what,
                 c10::str(t.sizes()));
    HEPGNN_CHECK(!at::isFloatingType(t.scalar_type()) && !at::isComplexType(t.scalar_type()) &&
                     t.scalar_type() != torch::kBool,
                 "graph input: {} must hold integer node indices, got {}", what,
                 c10::toString(t.scalar_type()));
    return t.to(torch::kCPU, torch::kInt64).contiguous();
}

}  // namespace

SegmentIndex SegmentIndex::to(const torch::Device& device) const {
    return {perm.to(device), rowptr.to(device), node_of_edge.to(device)};
}

MessagePassingIndex MessagePassingIndex::build(const torch::Tensor& senders,
                                               const torch::Tensor& receivers, int64_t n_nodes) {
    HEPGNN_CHECK(n_nodes >= 0, "graph input: negative node count {}", n_nodes);
    const auto s = as_cpu_index(senders, "senders");
    const auto r = as_cpu_index(receivers, "receivers");
    HEPGNN_CHECK(s.size(0) == r.size(0),
                 "graph input: senders has {} edges but receivers has {}; they must match",
                 s.size(0), r.size(0));
    MessagePassingIndex index{counting_sort(r, n_nodes, "receivers"),
                              counting_sort(s, n_nodes, "senders")};
    const auto device = senders.device();
    return device.is_cpu() ? index : index.to(device);
}

MessagePassingIndex MessagePassingIndex::to(const torch::Device& device) const {
    return {by_receiver.to(device), by_sender.to(device)};
}

GraphInput GraphInput::make(torch::Tensor x, torch::Tensor senders, torch::Tensor receivers) {
    HEPGNN_CHECK(x.defined(), "graph input: node features x are missing");
    HEPGNN_CHECK(x.dim() == 2, "graph input: node features x must be [N, F], got shape {}",
                 c10::str(x.sizes()));
    HEPGNN_CHECK(at::isFloatingType(x.scalar_type()),
                 "graph input: node features x must be floating point, got {}",
                 c10::toString(x.scalar_type()));
    const auto device = x.device();
    GraphInput g;
    g.index = MessagePassingIndex::build(senders, receivers, x.size(0));
    g.x = std::move(x);
    // The sorted index already holds the validated int64 copies (node_of_edge).
    g.senders = g.index.by_sender.node_of_edge;
    g.receivers = g.index.by_receiver.node_of_edge;
    if (!device.is_cpu()) g = g.to(device);
    return g;
}

GraphInput GraphInput::to(const torch::Device& device) const {
    GraphInput g;
    g.x = x.to(device);
    g.senders = senders.to(device);
    g.receivers = receivers.to(device);
    g.index = index.to(device);
    // Keep node_of_edge and senders/receivers the same tensors after the move.
    g.index.by_sender.node_of_edge = g.senders;
    g.index.by_receiver.node_of_edge = g.receivers;
    return g;
}

}  // namespace hepgnn::models
