// Export of a trained interaction network as a TorchScript module (DESIGN
// §3.4): forward(x float32 [N, F], edge_index int64 [2, E]) -> logits [E],
// loadable with torch.jit.load in Python and torch::jit::load in C++ (as
// ACTS's TorchEdgeClassifier does), holding the trained parameters. Two forms:
//  * fused (default): forward is one call of the custom op
//    hepgnn::interaction_network, the fused inference forward of models/ops/ (Note
//    [Inference forward]). The client loads libhepgnn_ops.so first (C++: dlopen
//    it, or link it with -Wl,--no-as-needed; Python: torch.ops.load_library).
//  * portable: TorchScript source of plain torch ops, generated from the model
//    config, which runs on any libtorch without hepgnn (several times slower).
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace hepgnn::models {

class GnnModel;

enum class TorchScriptOps { fused, portable };

/// Writes `model` to `out` atomically. Before writing, runs the scripted module
/// and `model` on a random graph and fails (InternalError) if their logits
/// differ by more than 1e-4. Throws hepgnn::Error for models it cannot export.
/// `metadata` goes into the archive as extra files (torch.jit.load's
/// _extra_files), e.g. how the input features were scaled.
void export_torchscript(GnnModel& model, const std::filesystem::path& out,
                        const std::map<std::string, std::string>& metadata = {},
                        TorchScriptOps ops = TorchScriptOps::fused);

}  // namespace hepgnn::models
