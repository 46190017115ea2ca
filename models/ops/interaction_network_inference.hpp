// The interaction network's forward for inference only (no autograd), fused: the body of
// InteractionNetwork::forward under no-grad and of the custom op hepgnn::interaction_network
// (models/ops/torch_library.cpp), which TorchScript exports call.
//
// Note [Inference forward]
// ~~~~~~~~~~~~~~~~~~~~~~~~
// Without backward, no activation has to outlive the layer that reads it. So the E-sized work
// of each message-passing step runs on chunks of 256 edges whose buffers stay in L2: for a
// chunk, the edge part of the edge net's split first product (Note [Split linear] in
// models/segment_ops.hpp), the gathers of its two node parts, bias + layer norm + activation,
// the second product and the residual update of e follow one another on a [256, H] buffer, and
// only e itself (one [E, H] tensor, updated in place) goes to memory. The training forward
// writes five [E, H] tensors per MLP and keeps them for backward. The classifier reduces its
// chunks to logits the same way, and the node-side MLPs run on chunks of nodes (the node net's
// input [h, a_in, a_out] is assembled per chunk, never as an [N, 3H] tensor). Nothing is
// allocated per chunk: each task has one scratch buffer. For ReLU with layer norm at width 64
// in float32 (the default model), each product also runs its row work in registers and starts
// at the gathered node parts (Note [Fused row epilogue] in models/ops/panel_matmul.hpp): same
// function, other float32 rounding: logits agree with the training forward within the tests' 1e-5.
// Other shapes take the training forward's kernels and layer-norm rounding.
#pragma once

#include <torch/types.h>

#include <string>
#include <vector>

namespace hepgnn::ops {

/// What an interaction network (DESIGN §3.3) is beyond its parameters.
struct InteractionNetworkShape {
    int64_t n_graph_iters = 8;
    int64_t n_mlp_layers = 2;
    std::string aggregation = "sum";  // sum | mean | max | sum_max
    std::string activation = "relu";  // relu | tanh | silu
    bool layer_norm = true;
    double layer_norm_eps = 1e-5;
    bool edge_differences = false;  // the edge encoder also reads x_r - x_s (raw features)
    // Matrix products with bfloat16 inputs and float32 sums (Note [bfloat16 products] in
    // models/ops/panel_matmul.hpp): float32 x only, CPUs with AVX512-BF16.
    bool bfloat16_products = false;
};

/// Edges grouped by node (models/ops/segment_kernels.hpp): perm int64 [E], rowptr int64 [N + 1].
struct EdgeGroups {
    torch::Tensor perm;
    torch::Tensor rowptr;
};

/// Logits [E] of the network for node features x [N, F] (float32 or float64, CPU) and edges
/// senders -> receivers (int64 [E], contiguous), with the edges grouped by receiver and by
/// sender. `parameters` in the order of InteractionNetwork::parameters(): node_encoder,
/// edge_encoder, edge_net, node_net, edge_classifier; in each MLP, layer by layer, the linear's
/// weight and bias, then the layer norm's weight and bias where the layer has one. Throws
/// c10::Error (TORCH_CHECK) for parameters that do not fit the shape.
torch::Tensor interaction_network_inference(const torch::Tensor& x, const torch::Tensor& senders,
                                            const torch::Tensor& receivers,
                                            const EdgeGroups& by_receiver,
                                            const EdgeGroups& by_sender,
                                            const std::vector<torch::Tensor>& parameters,
                                            const InteractionNetworkShape& shape);

/// The same from edge_index int64 [2, E] (senders, receivers), the groups built here: the
/// custom op's body. Throws c10::Error for edges naming nodes outside [0, N).
torch::Tensor interaction_network_inference(const torch::Tensor& x, const torch::Tensor& edge_index,
                                            const std::vector<torch::Tensor>& parameters,
                                            const InteractionNetworkShape& shape);

}  // namespace hepgnn::ops
