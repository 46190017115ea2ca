// The TrackML challenge's hit weights (Note [TrackML weights] in
// trackml_weights.cpp), computed from an event's hits, truth and particles,
// so that the simulator writes them and a scorer can recompute and check them.
#pragma once

#include <vector>

#include "data/trackml_event.hpp"

namespace hepgnn::data {

/// pT factor of a particle's hit weights: 0.2 up to 0.5 GeV, rising linearly
/// to 1 at 3 GeV, 1 above.
double trackml_pt_weight(double pt);

/// Order factor of hit k (0-based, in order of distance from the vertex) of
/// a track of n >= 2 hits, before normalisation: the proposal 10, 8, 6, 5, 3,
/// 3, 3, 5, 6 interpolated linearly at k * 8 / (n - 1).
double trackml_order_weight(int k, int n);

/// Weight of every hit of `event`, in the order of event.hits. Noise hits and
/// hits of particles with fewer than 4 hits weigh 0; the rest sum to 1 (all
/// zero if there are none). Throws hepgnn::Error if the truth does not match
/// the hits or names a particle missing from event.particles.
std::vector<float> trackml_hit_weights(const TrackmlEvent& event);

}  // namespace hepgnn::data
