// The graph construction stage (Note [Pipeline stages]): data::GraphBuilder
// from hits alone, in either of its detector modes (a module map over the
// whole detector, or HEP.TrkX's barrel cuts), so `infer` and `evaluate` build
// the graphs `prepare` builds for training. Truth labels, for edge metrics
// on events with truth, are added afterwards and choose nothing.
#pragma once

#include <cstdint>
#include <vector>

#include "data/graph_builder.hpp"
#include "pipeline/stages.hpp"

namespace hepgnn::pipeline {

class DetectorGraphConstruction final : public GraphConstruction {
public:
    using Config = data::GraphBuilder::Config;

    /// Throws hepgnn::Error for an invalid config (data::GraphBuilder).
    explicit DetectorGraphConstruction(Config config) : builder_(std::move(config)) {}
    const Config& config() const { return builder_.config(); }

    std::vector<data::EventGraph> build(int64_t event_id,
                                        const std::vector<data::Hit>& hits) const override {
        return builder_.build_from_hits(event_id, hits);
    }
    data::FeatureInfo features() const override {
        return data::GraphBuilder::feature_info(builder_.config());
    }

private:
    data::GraphBuilder builder_;
};

/// Labels graphs built from the hits of `event` with its truth: per node the
/// particle id and pT (GeV, of its particle; 0 for noise), per edge y = 1 when
/// both hits are of one particle on consecutive trajectory steps (Note
/// [Trajectory steps]: the labels `prepare` gives whole-detector graphs).
/// Throws hepgnn::Error for a node whose hit the event does not have.
void label_with_truth(std::vector<data::EventGraph>& graphs, const data::TrackmlEvent& event);

}  // namespace hepgnn::pipeline
