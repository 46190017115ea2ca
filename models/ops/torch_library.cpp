// The custom-op library libhepgnn_ops.so: registers hepgnn::interaction_network with torch, so
// that TorchScript exports (models/torchscript_export.hpp) run the fused inference forward of
// models/ops/interaction_network_inference.hpp. A C++ client loads the library (dlopen, or link it
// with --no-as-needed) before torch::jit::load; Python calls torch.ops.load_library.
#include <dlfcn.h>
#include <torch/library.h>

#include "models/ops/interaction_network_inference.hpp"
#include "models/ops/library.hpp"

namespace hepgnn::ops {
namespace {

at::Tensor interaction_network_op(const at::Tensor& x, const at::Tensor& edge_index,
                                  std::vector<at::Tensor> parameters, int64_t n_graph_iters,
                                  int64_t n_mlp_layers, std::string aggregation,
                                  std::string activation, bool layer_norm, bool edge_differences) {
    InteractionNetworkShape shape;
    shape.n_graph_iters = n_graph_iters;
    shape.n_mlp_layers = n_mlp_layers;
    shape.aggregation = std::move(aggregation);
    shape.activation = std::move(activation);
    shape.layer_norm = layer_norm;
    shape.edge_differences = edge_differences;
    return interaction_network_inference(x, edge_index, parameters, shape);
}

}  // namespace

std::string library_path() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&library_path), &info) != 0 && info.dli_fname != nullptr)
        return info.dli_fname;
    return "libhepgnn_ops.so";
}

}  // namespace hepgnn::ops

TORCH_LIBRARY(hepgnn, m) {
    m.def(
        "interaction_network(Tensor x, Tensor edge_index, Tensor[] parameters, int n_graph_iters, "
        "int n_mlp_layers, str aggregation, str activation, bool layer_norm, "
        "bool edge_differences=False) -> Tensor");
}

TORCH_LIBRARY_IMPL(hepgnn, CPU, m) {
    m.impl("interaction_network", &hepgnn::ops::interaction_network_op);
}
