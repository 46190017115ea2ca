// The edge classification stage with a trained GNN (Note [Pipeline stages]):
// a model in memory (e.g. from a hepgnn checkpoint) or an exported
// TorchScript module (the file a C++ program such as ACTS would load), behind
// one interface. Torch stays in the .cpp (pointer to implementation); the
// target hepgnn_pipeline_gnn links it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "pipeline/stages.hpp"

namespace hepgnn::models {
class GnnModel;
}

namespace hepgnn::pipeline {

class GnnEdgeClassifier final : public EdgeClassification {
public:
    struct Config {
        // The graphs of one event run through the model together, in batches
        // of at most this many edges (a graph larger than that runs alone).
        int64_t batch_edges = 200000;
        // Matrix products in bfloat16 (infer/evaluate --bf16; checkpoints of the interaction
        // network on CPUs with AVX512-BF16, Note [bfloat16 products]).
        bool bfloat16 = false;
    };

    /// A model in memory; `features` says how its training data was scaled
    /// (empty: unknown), `description` what it is, e.g. "checkpoint". Throws
    /// hepgnn::Error for batch_edges < 1 or a null model.
    GnnEdgeClassifier(Config config, std::shared_ptr<models::GnnModel> model,
                      data::FeatureInfo features, std::string description);
    /// A TorchScript module with forward(x, edge_index) -> logits; nullptr
    /// when torch cannot read `path` as TorchScript (the caller says what to
    /// pass instead). Throws hepgnn::Error naming the file for a module
    /// without forward or unreadable feature metadata.
    static std::unique_ptr<GnnEdgeClassifier> load_torchscript(Config config,
                                                               const std::filesystem::path& path);
    ~GnnEdgeClassifier() override;
    GnnEdgeClassifier(const GnnEdgeClassifier&) = delete;
    GnnEdgeClassifier& operator=(const GnnEdgeClassifier&) = delete;

    /// Throws hepgnn::Error naming the event and sections when the graphs do
    /// not fit the model (feature count) or the model fails or returns
    /// another shape than [E].
    std::vector<std::vector<float>> classify(const std::vector<data::EventGraph>& graphs) override;
    std::string describe() const override;
    const data::FeatureInfo& features() const override;

private:
    struct Impl;
    explicit GnnEdgeClassifier(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hepgnn::pipeline
