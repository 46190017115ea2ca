// Per-edge loss weights in the style of acorn: by the edge's class (a true
// segment, a fake between two particles' hits, a fake touching a noise hit)
// and, for true segments, by the particle's pT. Torch-free: weights are plain
// floats filled in when a batch is built.
#pragma once

#include <vector>

#include "data/event_graph.hpp"

namespace hepgnn::trainer {

struct EdgeWeights {
    double true_high_pt = 1.0;  // y = 1, particle pT >= pt_threshold
    double true_low_pt = 1.0;   // y = 1, particle pT below it
    double pt_threshold = 1.0;  // GeV
    double fake = 1.0;          // y = 0, both hits from particles
    double noise = 1.0;         // y = 0, one or both hits noise

    /// False when every weight is 1: the loss is the plain BCE (pos_weight aside).
    bool enabled() const {
        return true_high_pt != 1.0 || true_low_pt != 1.0 || fake != 1.0 || noise != 1.0;
    }
};

/// Appends one weight per edge of `graph` to `out`. Needs the graph's truth
/// columns (particle_id, pt); throws hepgnn::Error naming the graph without them.
void append_edge_weights(const data::EventGraph& graph, const EdgeWeights& weights,
                         std::vector<float>& out);

}  // namespace hepgnn::trainer
