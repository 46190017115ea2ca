// Candidate edges of whole-detector graphs: for every layer pair of a module
// map, the hit pairs whose segment quantities lie inside the pair's ranges.
// Found with binned searches (Note [Binned edge search]), so the cost is
// linear in the number of hits at fixed hit density.
#pragma once

#include <cstdint>
#include <vector>

#include "data/module_map.hpp"
#include "data/segment.hpp"

namespace hepgnn::data {

struct CandidateEdge {
    int32_t inner = 0, outer = 0;  // hit indices; inner is on the pair's inner layer
    int32_t pair = 0;              // index into map.pairs
};

/// `layer[i]` is hit i's index into map.layers (every hit must have one);
/// edges come in a fixed order (by pair, then inner hit, then outer hit), so
/// the same hits always give the same edge list.
std::vector<CandidateEdge> find_candidate_edges(const ModuleMap& map,
                                                const std::vector<HitPoint>& points,
                                                const std::vector<int32_t>& layer);

}  // namespace hepgnn::data
