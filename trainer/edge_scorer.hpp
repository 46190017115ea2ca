// What `hepgnn infer` runs on each graph: a trained model, from a hepgnn
// checkpoint or from an exported TorchScript file (the same file a C++
// program such as ACTS would load), behind one interface.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/event_graph.hpp"

namespace hepgnn::trainer {

class EdgeScorer {
public:
    virtual ~EdgeScorer() = default;
    /// Logits of the graph's edges (empty for a graph without edges).
    virtual std::vector<float> logits(const data::EventGraph& graph) = 0;
    /// "checkpoint (interaction_network, 63425 parameters)" or "torchscript".
    virtual std::string describe() const = 0;
    /// How the model's training data was scaled; empty when the file does not say
    /// (checkpoints and exports from before hepgnn kept it).
    virtual const data::FeatureInfo& features() const = 0;
};

/// Opens `path` as a hepgnn checkpoint or a TorchScript module with
/// forward(x, edge_index). Anything else (an ONNX file, a truncated file, a
/// text file) gets a hepgnn::Error that names the file and says what to pass.
std::unique_ptr<EdgeScorer> load_edge_scorer(const std::filesystem::path& path);

}  // namespace hepgnn::trainer
