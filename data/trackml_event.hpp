// In-memory form of one TrackML event: the three CSV tables of the TrackML
// Particle Tracking Challenge (hits, truth, particles), column for column.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hepgnn::data {

/// One row of eventNNNNNNNNN-hits.csv. Positions in mm.
struct Hit {
    int64_t hit_id = 0;
    float x = 0, y = 0, z = 0;
    int32_t volume_id = 0, layer_id = 0, module_id = 0;
};

/// One row of eventNNNNNNNNN-truth.csv: the true crossing behind a hit.
/// particle_id is 0 for noise hits. Momenta in GeV.
struct TruthHit {
    int64_t hit_id = 0;
    int64_t particle_id = 0;
    float tx = 0, ty = 0, tz = 0;
    float tpx = 0, tpy = 0, tpz = 0;
    float weight = 0;
};

/// One row of eventNNNNNNNNN-particles.csv. Vertex in mm, momentum in GeV.
struct Particle {
    int64_t particle_id = 0;
    float vx = 0, vy = 0, vz = 0;
    float px = 0, py = 0, pz = 0;
    int32_t q = 0;
    int32_t nhits = 0;
};

struct TrackmlEvent {
    int64_t event_id = 0;
    std::vector<Hit> hits;        // ordered by hit_id
    std::vector<TruthHit> truth;  // same length and order as hits
    std::vector<Particle> particles;
};

}  // namespace hepgnn::data
