// From section graphs to whole events for track building. An event is stored
// as several section graphs whose border hits appear in two graphs (halo
// nodes), while each edge lives in exactly one graph (Note [Section borders]
// in data/graph_builder.cpp). Tracks cross section borders, so they are built
// per event: hits are merged by hit_id and edges re-indexed onto them.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "data/event_graph.hpp"

namespace hepgnn::pipeline {

struct EventHits {
    int64_t event_id = 0;
    std::vector<int64_t> hit_id;              // unique hits of the event
    std::vector<int64_t> particle_id;         // per hit; empty without truth
    std::vector<float> pt;                    // per hit (its particle's pT); empty without truth
    std::vector<float> eta;                   // per hit, from its (r, z) position
    std::vector<int64_t> layer;               // per hit: layer_key(volume, layer); empty when
                                              // the graphs do not say (files before them)
    std::vector<int64_t> senders, receivers;  // edges over the event's hits
    std::vector<float> scores;                // sigmoid(logit) per edge
};

/// One detector layer's key from its TrackML volume and layer ids.
constexpr int64_t layer_key(int32_t volume_id, int32_t layer_id) {
    return (int64_t{volume_id} << 32) | static_cast<uint32_t>(layer_id);
}

/// An edge's score from its logit: sigmoid(logit), in [0, 1].
inline float score_of_logit(float logit) {
    return 1.0f / (1.0f + std::exp(-logit));
}

/// Groups `graphs` (with hit ids) by event, in order of first appearance, and
/// merges each event's graphs; logits[g] holds the edge logits of graphs[g]
/// (EventHits::scores are their sigmoids).
/// r_column / z_column: the node-feature columns of r and z, -1 leaves eta at
/// 0; z_over_r_scale: the ratio of their divisors (FeatureInfo::scale), so
/// eta = asinh(z / r) comes from unscaled coordinates (prepare_demo.yaml
/// divides r by 1000 mm and z by 100 mm). Throws hepgnn::Error when a graph
/// has no hit ids or its scores do not match its edges.
std::vector<EventHits> merge_event_graphs(const std::vector<data::EventGraph>& graphs,
                                          const std::vector<std::vector<float>>& logits,
                                          int r_column, int z_column, double z_over_r_scale);

/// The column named `name` in `feature_names`, or -1.
int feature_column(const std::vector<std::string>& feature_names, const std::string& name);

}  // namespace hepgnn::pipeline
