// The triplet filter of whole-detector graphs: a candidate edge is kept only
// when it continues into, or comes from, another candidate edge along a
// plausible helix (Note [Triplet filter]).
#pragma once

#include <vector>

#include "data/candidate_edges.hpp"
#include "data/segment.hpp"

namespace hepgnn::data {

struct TripletFilterConfig {
    bool enabled = false;
    // Two edges a -> b -> c form a triplet when the middle hit b lies near the
    // helix from the origin through a and c (curvature k, 1/mm): within
    //   max_xy_residual + max_xy_residual_per_curvature * k   (mm)
    // of its circle in the transverse plane, and within
    //   max_sz_residual + max_sz_residual_per_curvature * k   (mm)
    // of its line in (arc length, z). The k parts are multiple scattering
    // (~ 1 / pT). The defaults keep 99.4% of true triplets and 5% of the
    // others (Note [Triplet filter]).
    double max_xy_residual = 1.0;
    double max_xy_residual_per_curvature = 1000.0;  // mm^2
    double max_sz_residual = 4.0;
    double max_sz_residual_per_curvature = 5000.0;  // mm^2
};

/// The edges of `edges` (over `points`) that belong to at least one triplet,
/// in their order; all of them, untouched, when the filter is off. Takes the
/// list by value and filters it in place, so graph building pays no copy.
/// Cost: the sum over hits of in-degree x out-degree.
std::vector<CandidateEdge> filter_by_triplets(const TripletFilterConfig& config,
                                              std::vector<CandidateEdge> edges,
                                              const std::vector<HitPoint>& points);

}  // namespace hepgnn::data
