#include "trainer/edge_weights.hpp"

#include "core/error.hpp"

namespace hepgnn::trainer {

void append_edge_weights(const data::EventGraph& g, const EdgeWeights& w, std::vector<float>& out) {
    HEPGNN_CHECK(static_cast<int64_t>(g.particle_id.size()) == g.n_nodes &&
                     static_cast<int64_t>(g.pt.size()) == g.n_nodes,
                 "event {} section {}: training.edge_weights need the graph's truth columns "
                 "(particle_id, pt), which were not read",
                 g.event_id, g.section_id);
    out.reserve(out.size() + g.senders.size());
    for (int64_t e = 0; e < g.n_edges(); ++e) {
        const int32_t s = g.senders[e], r = g.receivers[e];
        double weight;
        if (g.y[e]) {
            weight = g.pt[s] >= w.pt_threshold ? w.true_high_pt : w.true_low_pt;
        } else {
            weight = g.particle_id[s] == 0 || g.particle_id[r] == 0 ? w.noise : w.fake;
        }
        out.push_back(static_cast<float>(weight));
    }
}

}  // namespace hepgnn::trainer
