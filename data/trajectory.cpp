#include "data/trajectory.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/error.hpp"

namespace hepgnn::data {

namespace {

struct Ordered {
    int64_t particle_id;
    double distance;
    int64_t hit_id;
    int32_t index;
};

/// Signal hits sorted by (particle, distance from its vertex, hit id).
std::vector<Ordered> ordered_signal_hits(const TrackmlEvent& event) {
    HEPGNN_CHECK(event.truth.size() == event.hits.size(),
                 "event {}: {} truth rows for {} hits; the truth file does not match the hits",
                 event.event_id, event.truth.size(), event.hits.size());
    std::unordered_map<int64_t, const Particle*> vertex;
    vertex.reserve(event.particles.size());
    for (const Particle& p : event.particles) vertex[p.particle_id] = &p;
    std::vector<Ordered> hits;
    hits.reserve(event.hits.size());
    for (size_t i = 0; i < event.hits.size(); ++i) {
        const TruthHit& t = event.truth[i];
        if (t.particle_id == 0) continue;
        double vx = 0, vy = 0, vz = 0;
        if (auto it = vertex.find(t.particle_id); it != vertex.end()) {
            vx = it->second->vx;
            vy = it->second->vy;
            vz = it->second->vz;
        }
        const double d = std::sqrt((t.tx - vx) * (t.tx - vx) + (t.ty - vy) * (t.ty - vy) +
                                   (t.tz - vz) * (t.tz - vz));
        hits.push_back({t.particle_id, d, event.hits[i].hit_id, static_cast<int32_t>(i)});
    }
    std::sort(hits.begin(), hits.end(), [](const Ordered& a, const Ordered& b) {
        if (a.particle_id != b.particle_id) return a.particle_id < b.particle_id;
        if (a.distance != b.distance) return a.distance < b.distance;
        return a.hit_id < b.hit_id;
    });
    return hits;
}

bool same_layer(const Hit& a, const Hit& b) {
    return a.volume_id == b.volume_id && a.layer_id == b.layer_id;
}

}  // namespace

std::vector<int32_t> trajectory_steps(const TrackmlEvent& event) {
    std::vector<int32_t> step(event.hits.size(), -1);
    const auto hits = ordered_signal_hits(event);
    for (size_t k = 0; k < hits.size(); ++k) {
        const bool first = k == 0 || hits[k - 1].particle_id != hits[k].particle_id;
        if (first) {
            step[hits[k].index] = 0;
            continue;
        }
        const int32_t prev = hits[k - 1].index;
        step[hits[k].index] =
            step[prev] + (same_layer(event.hits[prev], event.hits[hits[k].index]) ? 0 : 1);
    }
    return step;
}

std::vector<TrueSegment> true_segments(const TrackmlEvent& event) {
    const auto hits = ordered_signal_hits(event);
    std::vector<TrueSegment> out;
    out.reserve(hits.size() * 2);
    // One particle at a time: its hits split into runs on one layer (steps).
    for (size_t begin = 0; begin < hits.size();) {
        size_t end = begin;
        while (end < hits.size() && hits[end].particle_id == hits[begin].particle_id) ++end;
        size_t step_begin = begin;
        while (step_begin < end) {
            size_t step_end = step_begin + 1;
            while (step_end < end &&
                   same_layer(event.hits[hits[step_end].index], event.hits[hits[step_begin].index]))
                ++step_end;
            size_t next_end = step_end;
            while (next_end < end &&
                   same_layer(event.hits[hits[next_end].index], event.hits[hits[step_end].index]))
                ++next_end;
            for (size_t a = step_begin; a < step_end; ++a)
                for (size_t b = step_end; b < next_end; ++b)
                    out.push_back({hits[a].index, hits[b].index, hits[a].particle_id});
            step_begin = step_end;
        }
        begin = end;
    }
    return out;
}

}  // namespace hepgnn::data
