#include "pipeline/event_hits.hpp"

#include <cmath>
#include <map>
#include <unordered_map>

#include "core/error.hpp"

namespace hepgnn::pipeline {

int feature_column(const std::vector<std::string>& feature_names, const std::string& name) {
    for (size_t i = 0; i < feature_names.size(); ++i)
        if (feature_names[i] == name) return static_cast<int>(i);
    return -1;
}

std::vector<EventHits> merge_event_graphs(const std::vector<data::EventGraph>& graphs,
                                          const std::vector<std::vector<float>>& logits,
                                          int r_column, int z_column, double z_over_r_scale) {
    HEPGNN_CHECK(graphs.size() == logits.size(), "merge_event_graphs: {} graphs but {} logit lists",
                 graphs.size(), logits.size());
    std::vector<EventHits> events;
    std::map<int64_t, size_t> event_index;
    std::vector<std::unordered_map<int64_t, int64_t>> hit_index;  // per event: hit_id -> index
    for (size_t g = 0; g < graphs.size(); ++g) {
        const auto& graph = graphs[g];
        HEPGNN_CHECK(static_cast<int64_t>(graph.hit_id.size()) == graph.n_nodes,
                     "event {} section {}: graph has no hit ids; track building needs them",
                     graph.event_id, graph.section_id);
        HEPGNN_CHECK(static_cast<int64_t>(logits[g].size()) == graph.n_edges(),
                     "event {} section {}: {} logits for {} edges", graph.event_id,
                     graph.section_id, logits[g].size(), graph.n_edges());
        const bool truth = graph.particle_id.size() == graph.hit_id.size();
        const bool layers = graph.volume_id.size() == graph.hit_id.size() &&
                            graph.layer_id.size() == graph.hit_id.size();
        auto [it, added] = event_index.emplace(graph.event_id, events.size());
        if (added) {
            events.emplace_back();
            events.back().event_id = graph.event_id;
            hit_index.emplace_back();
        }
        EventHits& ev = events[it->second];
        auto& index = hit_index[it->second];
        std::vector<int64_t> local(static_cast<size_t>(graph.n_nodes));
        for (int64_t n = 0; n < graph.n_nodes; ++n) {
            auto [h, is_new] = index.emplace(graph.hit_id[n], ev.hit_id.size());
            local[n] = h->second;
            if (!is_new) continue;
            ev.hit_id.push_back(graph.hit_id[n]);
            if (truth) {
                ev.particle_id.push_back(graph.particle_id[n]);
                ev.pt.push_back(graph.pt[n]);
            }
            float eta = 0;
            if (r_column >= 0 && z_column >= 0) {
                const float* row = graph.x.data() + n * graph.n_features;
                eta = static_cast<float>(
                    std::asinh(z_over_r_scale * row[z_column] / std::max(row[r_column], 1e-9f)));
            }
            ev.eta.push_back(eta);
            if (layers) ev.layer.push_back(layer_key(graph.volume_id[n], graph.layer_id[n]));
        }
        for (int64_t e = 0; e < graph.n_edges(); ++e) {
            ev.senders.push_back(local[graph.senders[e]]);
            ev.receivers.push_back(local[graph.receivers[e]]);
            ev.scores.push_back(score_of_logit(logits[g][e]));
        }
    }
    // Layers only when every graph of the event has them.
    for (auto& ev : events)
        if (ev.layer.size() != ev.hit_id.size()) ev.layer.clear();
    return events;
}

}  // namespace hepgnn::pipeline
