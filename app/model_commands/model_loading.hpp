// Opening a trained model as the pipeline's edge classification stage: a
// hepgnn checkpoint (trainer's file format) or a TorchScript export. Lives in
// app/ because it is where trainer (checkpoints) and pipeline meet; pipeline
// itself does not depend on trainer.
#pragma once

#include <filesystem>
#include <memory>

#include "pipeline/gnn_edge_classifier.hpp"

namespace hepgnn::app {

/// Opens `path` as a hepgnn checkpoint or a TorchScript module with
/// forward(x, edge_index). Anything else (an ONNX file, a truncated file, a
/// text file) gets a hepgnn::Error that names the file and says what to pass.
std::unique_ptr<pipeline::GnnEdgeClassifier> load_edge_classifier(
    const std::filesystem::path& path, const pipeline::GnnEdgeClassifier::Config& config);

/// A hepgnn checkpoint only (evaluate): hepgnn::Error "... is not a hepgnn
/// checkpoint" for anything else.
std::unique_ptr<pipeline::GnnEdgeClassifier> load_checkpoint_classifier(
    const std::filesystem::path& path, const pipeline::GnnEdgeClassifier::Config& config);

}  // namespace hepgnn::app
