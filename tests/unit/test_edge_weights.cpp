#include <gtest/gtest.h>

#include "test_util.hpp"
#include "trainer/edge_weights.hpp"

using hepgnn::testing_util::error_of;
using namespace hepgnn;

// Four hits: two of a 2 GeV particle, one of a 0.6 GeV particle, one noise;
// edges of each class.
TEST(EdgeWeights, ByClassAndParticlePt) {
    data::EventGraph g;
    g.n_nodes = 4;
    g.n_features = 3;
    g.x.assign(12, 0.0f);
    g.particle_id = {7, 7, 9, 0};
    g.pt = {2.0f, 2.0f, 0.6f, 0.0f};
    g.senders = {0, 2, 0, 1, 3};
    g.receivers = {1, 1, 2, 3, 2};
    g.y = {1, 1, 0, 0, 0};  // the second "true" edge: a low-pT particle's (sender's pT counts)
    trainer::EdgeWeights w;
    EXPECT_FALSE(w.enabled());
    w.true_high_pt = 3.0;
    w.true_low_pt = 0.5;
    w.pt_threshold = 1.0;
    w.fake = 2.0;
    w.noise = 0.25;
    EXPECT_TRUE(w.enabled());
    std::vector<float> out = {42.0f};  // appended to, not overwritten
    trainer::append_edge_weights(g, w, out);
    EXPECT_EQ(out, (std::vector<float>{42.0f, 3.0f, 0.5f, 2.0f, 0.25f, 0.25f}));

    g.pt.clear();
    EXPECT_NE(error_of([&] { trainer::append_edge_weights(g, w, out); }).find("truth columns"),
              std::string::npos);
}
