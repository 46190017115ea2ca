// The three stages of the inference pipeline and what they hand each other
// (Note [Pipeline stages]). Torch-free: a stage that runs a model hides torch
// behind its implementation (gnn_edge_classifier.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/event_graph.hpp"
#include "data/trackml_event.hpp"
#include "pipeline/event_hits.hpp"

namespace hepgnn::pipeline {

// Note [Pipeline stages]: as in ACTS's GNN plugin (Plugins/Gnn), track finding
// is three stages behind narrow interfaces, so each can be swapped on its own
// (a module map or the barrel cuts; a checkpoint, a TorchScript export or the
// truth labels; components, walkthrough or junction removal):
//   1. GraphConstruction: the hits of one event -> its section graphs
//      (data::EventGraph: nodes with hit ids and layers, edges inner -> outer);
//   2. EdgeClassification: those graphs -> one logit per edge;
//   3. TrackBuilding: the event's hits with scored edges (EventHits, the
//      sections merged by hit id) -> a track label per hit.
// They pass plain buffers, one event at a time. Pipeline (pipeline.hpp) runs
// them in order; `infer` and `evaluate` both run a Pipeline, and scoring
// (trackml_score.hpp) judges its labels against the truth of all hits.

/// Label of a hit that belongs to no candidate (or to one below min_hits).
constexpr int64_t kUnassigned = -1;

/// Track candidates of one event or graph: labels[i] is the candidate of hit
/// i, 0..n_candidates-1 numbered in order of each candidate's first
/// (lowest-index) hit, or kUnassigned.
struct TrackCandidates {
    std::vector<int64_t> labels;
    int64_t n_candidates = 0;
};

class GraphConstruction {
public:
    virtual ~GraphConstruction() = default;
    /// The graphs of one event from its hits alone (no truth), one per
    /// non-empty detector section; nodes carry hit ids and layers.
    virtual std::vector<data::EventGraph> build(int64_t event_id,
                                                const std::vector<data::Hit>& hits) const = 0;
    /// The node features the graphs carry and how they are scaled.
    virtual data::FeatureInfo features() const = 0;
};

class EdgeClassification {
public:
    virtual ~EdgeClassification() = default;
    /// One logit per edge of each graph (the graphs of one event):
    /// result[g].size() == graphs[g].n_edges(). Scores are their sigmoids.
    virtual std::vector<std::vector<float>> classify(
        const std::vector<data::EventGraph>& graphs) = 0;
    /// "checkpoint (interaction_network, 63425 parameters)", "torchscript", ...
    virtual std::string describe() const = 0;
    /// How the classifier's training data was scaled; empty when unknown.
    virtual const data::FeatureInfo& features() const = 0;
};

class TrackBuilding {
public:
    virtual ~TrackBuilding() = default;
    /// Candidates over the hits of one event (labels per hit of `event`).
    virtual TrackCandidates build(const EventHits& event) = 0;
    /// The method, e.g. "walkthrough".
    virtual std::string describe() const = 0;
};

}  // namespace hepgnn::pipeline
