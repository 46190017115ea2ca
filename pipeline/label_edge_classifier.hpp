// An edge classification stage that reads the answer off the graphs' truth
// labels (y), optionally blurred with seeded noise: the ceiling of a graph
// construction and track building (what a perfect classifier would reach),
// and a controlled imperfect classifier for comparing track building methods
// (Note [Track building methods] in track_building.cpp). Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pipeline/stages.hpp"

namespace hepgnn::pipeline {

class LabelEdgeClassifier final : public EdgeClassification {
public:
    struct Config {
        // A true edge gets logit +separation, a false one -separation, plus
        // sigma * N(0, 1); sigma 0 gives perfect scores (sigmoid(10) = 0.99995).
        double separation = 10.0;
        double sigma = 0.0;
        // Share of edges whose label is flipped before the logit is drawn.
        double flip = 0.0;
        // Noise is drawn per graph from (seed, event id, section id), so a
        // graph's scores do not depend on which other graphs are scored.
        uint64_t seed = 1;
    };

    /// Throws hepgnn::Error for separation or sigma < 0 or flip outside [0, 1].
    explicit LabelEdgeClassifier(Config config);

    /// Throws hepgnn::Error for a graph without labels.
    std::vector<std::vector<float>> classify(const std::vector<data::EventGraph>& graphs) override;
    std::string describe() const override;
    const data::FeatureInfo& features() const override { return features_; }

private:
    Config config_;
    data::FeatureInfo features_;  // empty: works on any features
};

}  // namespace hepgnn::pipeline
