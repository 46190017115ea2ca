#include "data/trackml_weights.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>

#include "core/error.hpp"

namespace hepgnn::data {

// Note [TrackML weights]
// The TrackML score (Kaggle challenge, phase 1) sums the weights of the hits
// a reconstruction gets right. A hit of particle p, the k-th (0-based) of
// its n hits ordered by the distance of the true crossing (tx, ty, tz) from
// p's vertex, weighs
//     w = w_pt(pT_p) * o(k, n) / sum_j o(j, n),   normalised so the event sums to 1,
// where w_pt is 0.2 up to 0.5 GeV, 0.2 + 0.8 (pT - 0.5) / 2.5 up to 3 GeV,
// 1 above (pT from the particles table), and o interpolates the proposal
// P = 10, 8, 6, 5, 3, 3, 3, 5, 6 linearly at x = k * 8 / (n - 1):
//     o(k, n) = P[i] + (x - i) (P[i+1] - P[i]),   i = floor(x)
// so the first and last hits weigh more than the middle ones. Noise hits and
// particles with fewer than 4 hits weigh 0. Every particle thus carries
// w_pt / sum over particles of w_pt, whatever its hit count. Equal distances
// keep the order of the hits in the event, so the result is deterministic.

namespace {

constexpr double kOrderProposal[9] = {10, 8, 6, 5, 3, 3, 3, 5, 6};
constexpr int kMinHits = 4;

}  // namespace

double trackml_pt_weight(double pt) {
    if (pt <= 0.5) return 0.2;
    if (pt >= 3.0) return 1.0;
    return 0.2 + 0.8 * (pt - 0.5) / 2.5;
}

double trackml_order_weight(int k, int n) {
    HEPGNN_CHECK(n >= 2 && 0 <= k && k < n,
                 "trackml_order_weight: need 0 <= k < n and n >= 2, got k = {}, n = {}", k, n);
    const double x = 8.0 * k / (n - 1);
    const int i = std::min(static_cast<int>(x), 7);
    return kOrderProposal[i] + (x - i) * (kOrderProposal[i + 1] - kOrderProposal[i]);
}

std::vector<float> trackml_hit_weights(const TrackmlEvent& event) {
    HEPGNN_CHECK(event.truth.size() == event.hits.size(),
                 "event {}: {} hits but {} truth rows; hit weights need one truth row per hit",
                 event.event_id, event.hits.size(), event.truth.size());
    std::unordered_map<int64_t, uint32_t> index_of;
    index_of.reserve(event.particles.size());
    for (size_t i = 0; i < event.particles.size(); ++i) {
        index_of.emplace(event.particles[i].particle_id, static_cast<uint32_t>(i));
    }

    struct Entry {
        uint32_t particle;
        uint32_t hit;
        double distance;  // of the true crossing from the particle's vertex
    };
    std::vector<Entry> entries;
    entries.reserve(event.truth.size());
    for (size_t i = 0; i < event.truth.size(); ++i) {
        const TruthHit& t = event.truth[i];
        if (t.particle_id == 0) continue;
        const auto it = index_of.find(t.particle_id);
        HEPGNN_CHECK(it != index_of.end(),
                     "event {}: truth of hit {} names particle {}, which is not in the particles "
                     "table (hit weights need its vertex and pT)",
                     event.event_id, t.hit_id, t.particle_id);
        const Particle& p = event.particles[it->second];
        const double distance =
            std::sqrt(std::pow(double(t.tx) - p.vx, 2) + std::pow(double(t.ty) - p.vy, 2) +
                      std::pow(double(t.tz) - p.vz, 2));
        entries.push_back({it->second, static_cast<uint32_t>(i), distance});
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        if (a.particle != b.particle) return a.particle < b.particle;
        if (a.distance != b.distance) return a.distance < b.distance;
        return a.hit < b.hit;
    });

    std::vector<double> weights(event.hits.size(), 0.0);
    double total = 0;
    for (size_t begin = 0; begin < entries.size();) {
        size_t end = begin;
        while (end < entries.size() && entries[end].particle == entries[begin].particle) ++end;
        const int n = static_cast<int>(end - begin);
        if (n >= kMinHits) {
            const Particle& p = event.particles[entries[begin].particle];
            const double pt_weight = trackml_pt_weight(std::hypot(double(p.px), double(p.py)));
            double order_sum = 0;
            for (int k = 0; k < n; ++k) order_sum += trackml_order_weight(k, n);
            for (int k = 0; k < n; ++k) {
                weights[entries[begin + k].hit] =
                    pt_weight * trackml_order_weight(k, n) / order_sum;
            }
            total += pt_weight;
        }
        begin = end;
    }
    std::vector<float> out(weights.size(), 0.f);
    if (total > 0) {
        for (size_t i = 0; i < weights.size(); ++i) out[i] = static_cast<float>(weights[i] / total);
    }
    return out;
}

}  // namespace hepgnn::data
