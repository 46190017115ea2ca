// Where each hit sits along its particle's trajectory, from truth: the one
// definition of a true segment shared by the module map (what it learns) and
// graph labels (what counts as y = 1).
#pragma once

#include <cstdint>
#include <vector>

#include "data/trackml_event.hpp"

namespace hepgnn::data {

// Note [Trajectory steps]
// A particle's hits are ordered by distance from its vertex (TrackML's
// convention; the truth position of the crossing is used, ties broken by
// hit id). Consecutive hits on the same layer (a double hit where modules
// overlap) form one step. Step k joins step k + 1: every hit of one step
// connects to every hit of the next, so both hits of a double hit connect to
// the neighbouring layers and no edge joins the two. A true segment is a pair
// of hits of one particle on steps k and k + 1.

/// Step of every hit (same order as event.hits); -1 for noise. Hits of
/// particles missing from event.particles are ordered from the origin.
std::vector<int32_t> trajectory_steps(const TrackmlEvent& event);

/// A true segment: hit indices (into event.hits) of steps k and k + 1.
struct TrueSegment {
    int32_t inner = 0, outer = 0;
    int64_t particle_id = 0;
};

/// Every true segment of the event, grouped by particle.
std::vector<TrueSegment> true_segments(const TrackmlEvent& event);

}  // namespace hepgnn::data
