#include "pipeline/pipeline.hpp"

#include <optional>
#include <unordered_map>
#include <utility>

#include "core/error.hpp"

namespace hepgnn::pipeline {

std::vector<int64_t> EventReconstruction::labels_of(const std::vector<int64_t>& hit_ids) const {
    HEPGNN_INTERNAL_CHECK(candidates.labels.size() == hits.hit_id.size(),
                          "event {}: {} labels for {} hits", event_id, candidates.labels.size(),
                          hits.hit_id.size());
    std::unordered_map<int64_t, int64_t> label_of;
    label_of.reserve(hits.hit_id.size());
    for (size_t i = 0; i < hits.hit_id.size(); ++i)
        label_of.emplace(hits.hit_id[i], candidates.labels[i]);
    std::vector<int64_t> out(hit_ids.size(), kUnassigned);
    for (size_t i = 0; i < hit_ids.size(); ++i) {
        const auto it = label_of.find(hit_ids[i]);
        if (it != label_of.end()) out[i] = it->second;
    }
    return out;
}

Pipeline::Pipeline(std::unique_ptr<GraphConstruction> graphs,
                   std::unique_ptr<EdgeClassification> classifier,
                   std::unique_ptr<TrackBuilding> tracks)
    : graphs_(std::move(graphs)), classifier_(std::move(classifier)), tracks_(std::move(tracks)) {
    HEPGNN_CHECK(classifier_ != nullptr && tracks_ != nullptr,
                 "pipeline: an edge classification and a track building stage are required");
    // The graphs' features when known, else those the classifier was trained on
    // (callers check that they agree: data::check_features_match).
    const data::FeatureInfo features = graphs_ ? graphs_->features() : classifier_->features();
    r_column_ = feature_column(features.names, "r");
    z_column_ = feature_column(features.names, "z");
    if (r_column_ >= 0 && z_column_ >= 0 && features.scale.size() == features.names.size())
        z_over_r_scale_ = double(features.scale[z_column_]) / double(features.scale[r_column_]);
}

const GraphConstruction& Pipeline::graph_construction() const {
    HEPGNN_CHECK(graphs_ != nullptr,
                 "pipeline: no graph construction stage; this pipeline runs on given graphs only");
    return *graphs_;
}

EventReconstruction Pipeline::run(int64_t event_id, const std::vector<data::Hit>& hits,
                                  StageTimes* times) {
    const GraphConstruction& construction = graph_construction();
    std::vector<data::EventGraph> graphs;
    {
        std::optional<ScopedStage> t;
        if (times) t.emplace(*times, "graph_building");
        graphs = construction.build(event_id, hits);
    }
    return classify_and_build(event_id, std::move(graphs), times);
}

EventReconstruction Pipeline::run_on_graphs(std::vector<data::EventGraph> graphs,
                                            StageTimes* times) {
    const int64_t event_id = graphs.empty() ? 0 : graphs.front().event_id;
    for (const auto& g : graphs)
        HEPGNN_CHECK(g.event_id == event_id,
                     "pipeline: graphs of events {} and {} given together; run one event at a "
                     "time",
                     event_id, g.event_id);
    return classify_and_build(event_id, std::move(graphs), times);
}

EventReconstruction Pipeline::classify_and_build(int64_t event_id,
                                                 std::vector<data::EventGraph> graphs,
                                                 StageTimes* times) {
    EventReconstruction rec;
    rec.event_id = event_id;
    rec.graphs = std::move(graphs);
    {
        std::optional<ScopedStage> t;
        if (times) t.emplace(*times, "gnn");
        rec.logits = classifier_->classify(rec.graphs);
    }
    HEPGNN_INTERNAL_CHECK(rec.logits.size() == rec.graphs.size(),
                          "edge classification returned {} logit lists for {} graphs",
                          rec.logits.size(), rec.graphs.size());
    std::optional<ScopedStage> t;
    if (times) t.emplace(*times, "track_building");
    auto merged = merge_event_graphs(rec.graphs, rec.logits, r_column_, z_column_, z_over_r_scale_);
    HEPGNN_INTERNAL_CHECK(merged.size() <= 1, "graphs of one event merged into {}", merged.size());
    if (merged.empty()) {  // no graph: every hit unassigned
        rec.hits.event_id = event_id;
        return rec;
    }
    rec.hits = std::move(merged.front());
    rec.candidates = tracks_->build(rec.hits);
    return rec;
}

}  // namespace hepgnn::pipeline
