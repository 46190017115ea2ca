// Export of a trained interaction network as a TorchScript module (DESIGN
// §3.4): forward(x float32 [N, F], edge_index int64 [2, E]) -> logits [E],
// loadable with torch.jit.load in Python and torch::jit::load in C++ (as
// ACTS's TorchEdgeClassifier does). The forward is TorchScript source
// generated from the model config, holding the trained parameters; it uses
// plain torch ops only, so it runs on any libtorch without hepgnn.
#pragma once

#include <filesystem>
#include <map>
#include <string>

namespace hepgnn::models {

class GnnModel;

/// Writes `model` to `out` atomically. Before writing, runs the scripted module
/// and `model` on a random graph and fails (InternalError) if their logits
/// differ by more than 1e-4. Throws hepgnn::Error for models it cannot export.
/// `metadata` goes into the archive as extra files (torch.jit.load's
/// _extra_files), e.g. how the input features were scaled.
void export_torchscript(GnnModel& model, const std::filesystem::path& out,
                        const std::map<std::string, std::string>& metadata = {});

}  // namespace hepgnn::models
