// The inference pipeline: graph construction -> edge classification -> track
// building, one event at a time (Note [Pipeline stages] in stages.hpp). Both
// `infer` and `evaluate` run one; it is torch-free, since the stages hide
// what they run.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/stage_timer.hpp"
#include "pipeline/stages.hpp"

namespace hepgnn::pipeline {

/// What the pipeline made of one event, stage by stage.
struct EventReconstruction {
    int64_t event_id = 0;
    std::vector<data::EventGraph> graphs;    // graph construction (or the graphs given)
    std::vector<std::vector<float>> logits;  // edge classification, per graph
    EventHits hits;                          // the graphs' hits with edges and scores
    TrackCandidates candidates;              // track building: a label per hit of `hits`

    /// The label of each of `hit_ids` (e.g. every hit of the event):
    /// kUnassigned for a hit that is in no graph or no candidate.
    std::vector<int64_t> labels_of(const std::vector<int64_t>& hit_ids) const;
};

class Pipeline {
public:
    /// `graphs` may be null for a pipeline that only runs on given graphs
    /// (run_on_graphs); the others are required (else hepgnn::Error).
    Pipeline(std::unique_ptr<GraphConstruction> graphs,
             std::unique_ptr<EdgeClassification> classifier, std::unique_ptr<TrackBuilding> tracks);

    /// All three stages on the hits of one event. `times`, when given, gets
    /// the seconds of "graph_building", "gnn" and "track_building".
    EventReconstruction run(int64_t event_id, const std::vector<data::Hit>& hits,
                            StageTimes* times = nullptr);
    /// Edge classification and track building on the graphs of one event
    /// (e.g. read from a graph file; with hit ids). Throws hepgnn::Error when
    /// the graphs belong to several events.
    EventReconstruction run_on_graphs(std::vector<data::EventGraph> graphs,
                                      StageTimes* times = nullptr);

    bool has_graph_construction() const { return graphs_ != nullptr; }
    const GraphConstruction& graph_construction() const;
    EdgeClassification& edge_classification() { return *classifier_; }
    TrackBuilding& track_building() { return *tracks_; }

private:
    EventReconstruction classify_and_build(int64_t event_id, std::vector<data::EventGraph> graphs,
                                           StageTimes* times);

    std::unique_ptr<GraphConstruction> graphs_;
    std::unique_ptr<EdgeClassification> classifier_;
    std::unique_ptr<TrackBuilding> tracks_;
    int r_column_ = -1, z_column_ = -1;  // node features for the hits' eta (EventHits::eta)
    double z_over_r_scale_ = 1.0;        // their divisors' ratio: eta from unscaled r, z
};

}  // namespace hepgnn::pipeline
