#include "pipeline/graph_construction.hpp"

#include <cmath>
#include <unordered_map>

#include "core/error.hpp"
#include "data/trajectory.hpp"

namespace hepgnn::pipeline {

void label_with_truth(std::vector<data::EventGraph>& graphs, const data::TrackmlEvent& event) {
    const std::vector<int32_t> step = data::trajectory_steps(event);
    std::unordered_map<int64_t, float> particle_pt;
    particle_pt.reserve(event.particles.size());
    for (const auto& p : event.particles) particle_pt[p.particle_id] = std::hypot(p.px, p.py);
    std::unordered_map<int64_t, size_t> index_of;
    index_of.reserve(event.hits.size());
    for (size_t i = 0; i < event.hits.size(); ++i) index_of.emplace(event.hits[i].hit_id, i);

    std::vector<size_t> node_hit;
    for (auto& g : graphs) {
        HEPGNN_CHECK(static_cast<int64_t>(g.hit_id.size()) == g.n_nodes,
                     "event {} section {}: graph has no hit ids; labels need them", g.event_id,
                     g.section_id);
        node_hit.resize(g.hit_id.size());
        g.particle_id.resize(g.hit_id.size());
        g.pt.resize(g.hit_id.size());
        for (size_t n = 0; n < g.hit_id.size(); ++n) {
            const auto it = index_of.find(g.hit_id[n]);
            HEPGNN_CHECK(it != index_of.end(),
                         "event {}: graph section {} holds hit_id {}, which the event's truth "
                         "does not list",
                         event.event_id, g.section_id, g.hit_id[n]);
            node_hit[n] = it->second;
            const data::TruthHit& t = event.truth[it->second];
            g.particle_id[n] = t.particle_id;
            float pt = 0.0f;
            if (t.particle_id != 0) {
                const auto p = particle_pt.find(t.particle_id);
                pt = p != particle_pt.end() ? p->second : std::hypot(t.tpx, t.tpy);
            }
            g.pt[n] = pt;
        }
        g.y.resize(g.senders.size());
        for (size_t e = 0; e < g.senders.size(); ++e) {
            const size_t a = node_hit[static_cast<size_t>(g.senders[e])];
            const size_t b = node_hit[static_cast<size_t>(g.receivers[e])];
            const int64_t pa = event.truth[a].particle_id;
            g.y[e] = pa != 0 && pa == event.truth[b].particle_id && step[b] == step[a] + 1;
        }
    }
}

}  // namespace hepgnn::pipeline
