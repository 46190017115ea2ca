// A torch-free ONNX writer for the interaction network (DESIGN §3.4), built directly with
// libonnx's protobuf classes: torch 1.13's own exporter writes index_add_ as a ScatterElements
// without reduction, which drops repeated receivers.
//
// Note [ONNX graph]
// ~~~~~~~~~~~~~~~~~
// Inputs "x" float32 [N, F] and "edge_index" int64 [2, E] (row 0 senders, row 1 receivers),
// output "logits" float32 [E]; N and E are symbolic. The graph is the plain form of §3.3:
// Gather rows by senders/receivers, Concat, then each Linear as Gemm(transB=1), so the weight
// initializers keep the checkpoint's names and [out, in] layout (no Transpose node, no
// transposed copy). The n_graph_iters iterations are unrolled; they read the same
// initializers, so the weights are stored once. Nodes are named "<scope>/<module>/<layer>",
// e.g. "iter3/edge_net/linear0".
//  * LayerNorm: LayerNormalization (epsilon 1e-5) at opset 17; at opset 16, which lacks it,
//    ReduceMean/Sub/Mul/ReduceMean/Add/Sqrt/Div/Mul/Add (torch's formula, biased variance).
//  * SiLU is x * Sigmoid(x) (ONNX has no SiLU operator).
//  * sum: ScatterElements(reduction="add") into zeros [N, H]; repeated indices accumulate.
//  * mean: that sum divided by max(degree, 1) per node (degree: a ScatterElements add of ones).
//  * max (and the max half of sum_max): ScatterElements' "max" reduction needs opset 18, so
//    edges are sorted by node once (TopK on the node ids), a segmented running max doubles
//    its reach in a Loop (ceil(log2(max degree)) steps of one row Gather and one Max over
//    [E, H]; O(E H) memory), and each node gathers the last entry of its segment. Exact (max
//    only selects); nodes without edges get 0, as in segment_max. NaN handling follows ONNX
//    Runtime's Max, not segment_max's "a NaN wins".
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace hepgnn::models {

struct ModelConfig;

/// A float32 tensor in row-major order: values.size() == product of shape.
struct NamedTensor {
    std::vector<int64_t> shape;
    std::vector<float> values;
};

/// Parameters by their module path, e.g. "edge_net.linear0.weight" (torch's named_parameters()).
using ParameterMap = std::map<std::string, NamedTensor>;

/// Every parameter of an interaction network with `config`, with its shape, in module order.
std::vector<std::pair<std::string, std::vector<int64_t>>> interaction_network_parameter_shapes(
    const ModelConfig& config);

/// The serialized ONNX model (Note [ONNX graph]) at `opset` (16 or 17). Throws hepgnn::Error
/// when the config is not an interaction network's, when a parameter is missing, unexpected or
/// has the wrong shape (the message names it), or when libonnx's checker or shape inference
/// rejects the graph.
std::string interaction_network_onnx(const ModelConfig& config, const ParameterMap& params,
                                     int opset = 17,
                                     const std::map<std::string, std::string>& metadata = {});

/// interaction_network_onnx() written to `out` atomically (old file or new file, never half).
void write_interaction_network_onnx(const ModelConfig& config, const ParameterMap& params,
                                    const std::filesystem::path& out, int opset = 17,
                                    const std::map<std::string, std::string>& metadata = {});

}  // namespace hepgnn::models
