#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "core/error.hpp"
#include "data/graph_builder.hpp"

using namespace hepgnn::data;

namespace {

constexpr double kPi = 3.14159265358979323846;
const double kRadii[10] = {32, 72, 116, 172, 260, 360, 500, 660, 820, 1020};
const int kVolume[10] = {8, 8, 8, 8, 13, 13, 13, 13, 17, 17};
const int kLayer[10] = {2, 4, 6, 8, 2, 4, 6, 8, 2, 4};

// Particles on helices from near the origin plus noise hits, on the 10
// barrel layers only: enough to check the builder against brute force.
TrackmlEvent synthetic_event(int n_particles, int n_noise, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> uphi(-kPi, kPi), ueta(-1.5, 1.5), upt(0.7, 5.0),
        uz(-80, 80);
    TrackmlEvent ev;
    ev.event_id = 42;
    int64_t hit_id = 1;
    auto add = [&](double x, double y, double z, int layer, int64_t pid, double px, double py) {
        Hit h;
        h.hit_id = hit_id;
        h.x = static_cast<float>(x);
        h.y = static_cast<float>(y);
        h.z = static_cast<float>(z);
        h.volume_id = kVolume[layer];
        h.layer_id = kLayer[layer];
        h.module_id = 1;
        TruthHit t;
        t.hit_id = hit_id++;
        t.particle_id = pid;
        t.tpx = static_cast<float>(px);
        t.tpy = static_cast<float>(py);
        ev.hits.push_back(h);
        ev.truth.push_back(t);
    };
    for (int p = 0; p < n_particles; ++p) {
        const double phi0 = uphi(rng), eta = ueta(rng), pt = upt(rng), z0 = uz(rng);
        const int q = p % 2 ? 1 : -1;
        const double R = pt / (0.3 * 2.0) * 1000.0;  // mm
        Particle part;
        part.particle_id = 1000 + p;
        part.px = static_cast<float>(pt * std::cos(phi0));
        part.py = static_cast<float>(pt * std::sin(phi0));
        part.q = q;
        ev.particles.push_back(part);
        for (int l = 0; l < 10; ++l) {
            const double r = kRadii[l];
            if (r >= 2 * R) break;
            const double phi = phi0 - q * std::asin(r / (2 * R));
            const double z = z0 + r * std::sinh(eta);
            add(r * std::cos(phi), r * std::sin(phi), z, l, part.particle_id, part.px, part.py);
        }
    }
    for (int k = 0; k < n_noise; ++k) {
        const int l = k % 10;
        const double phi = uphi(rng), z = uz(rng) * 5;
        add(kRadii[l] * std::cos(phi), kRadii[l] * std::sin(phi), z, l, 0, 0, 0);
    }
    // An endcap hit that must be ignored.
    Hit endcap;
    endcap.hit_id = hit_id;
    endcap.x = 50;
    endcap.z = 1500;
    endcap.volume_id = 9;
    endcap.layer_id = 2;
    TruthHit et;
    et.hit_id = hit_id;
    ev.hits.push_back(endcap);
    ev.truth.push_back(et);
    return ev;
}

using EdgeKey = std::pair<int64_t, int64_t>;  // (inner hit id, outer hit id)

std::set<EdgeKey> edges_of(const std::vector<EventGraph>& graphs, std::set<EdgeKey>* true_edges) {
    std::set<EdgeKey> out;
    for (const auto& g : graphs) {
        for (int64_t e = 0; e < g.n_edges(); ++e) {
            const EdgeKey k{g.hit_id[g.senders[e]], g.hit_id[g.receivers[e]]};
            EXPECT_TRUE(out.insert(k).second) << "edge in two graphs";
            if (g.y[e] && true_edges) true_edges->insert(k);
        }
    }
    return out;
}

// All pairs on adjacent layers, and on layers i, i+2 when the segment passes
// outside layer i+1 (|z| beyond its half-length), no binning: the reference for
// the window search.
std::set<EdgeKey> brute_force_edges(const TrackmlEvent& ev, const GraphBuilder::Config& c) {
    const double kHalfLength[10] = {491, 491, 491, 491, 1080, 1080, 1080, 1080, 1080, 1080};
    std::set<EdgeKey> out;
    auto layer_of = [](const Hit& h) {
        for (int l = 0; l < 10; ++l)
            if (h.volume_id == kVolume[l] && h.layer_id == kLayer[l]) return l;
        return -1;
    };
    for (const auto& a : ev.hits) {
        const int la = layer_of(a);
        if (la < 0) continue;
        for (const auto& b : ev.hits) {
            const int gap = layer_of(b) - la;
            if (gap != 1 && !(gap == 2 && c.skip_uncrossed_layers)) continue;
            const double ra = std::hypot(a.x, a.y), rb = std::hypot(b.x, b.y);
            if (gap == 2) {
                const double z_mid = a.z + (b.z - a.z) * (kRadii[la + 1] - ra) / (rb - ra);
                if (std::abs(z_mid) <= kHalfLength[la + 1]) continue;
            }
            double dphi = std::atan2(b.y, b.x) - std::atan2(a.y, a.x);
            while (dphi > kPi) dphi -= 2 * kPi;
            while (dphi < -kPi) dphi += 2 * kPi;
            const double dr = rb - ra;
            const double z0 = a.z - ra * (b.z - a.z) / dr;
            if (std::abs(dphi / dr) < c.phi_slope_max && std::abs(z0) < c.z0_max)
                out.insert({a.hit_id, b.hit_id});
        }
    }
    return out;
}

}  // namespace

TEST(GraphBuilder, WindowSearchFindsExactlyTheBruteForceEdges) {
    const auto ev = synthetic_event(300, 600, 7);
    GraphBuilder::Config c;
    const auto graphs = GraphBuilder(c).build(ev);
    const auto found = edges_of(graphs, nullptr);
    const auto expected = brute_force_edges(ev, c);
    EXPECT_GT(expected.size(), 1000u);
    EXPECT_EQ(found, expected);
}

TEST(GraphBuilder, WindowSearchWithoutSkipEdgesFindsTheAdjacentLayerEdges) {
    const auto ev = synthetic_event(300, 600, 8);
    GraphBuilder::Config c;
    c.skip_uncrossed_layers = false;
    const auto found = edges_of(GraphBuilder(c).build(ev), nullptr);
    EXPECT_EQ(found, brute_force_edges(ev, c));
    c.skip_uncrossed_layers = true;
    EXPECT_GT(brute_force_edges(ev, c).size(), found.size());  // the test data has skip edges
}

TEST(GraphBuilder, TrackBeyondThePixelBarrelEndKeepsOneChainOfTrueEdges) {
    // eta 1.9 from the origin: |z| = 379 mm on pixel layer 2 (r 116), 562 mm at
    // pixel layer 3 (r 172, which ends at 491 mm: no hit), 850 mm on strip layer
    // 4 (r 260). Hits on layers 0, 1, 2, 4.
    TrackmlEvent ev;
    ev.event_id = 1;
    const int layers[] = {0, 1, 2, 4};
    for (int k = 0; k < 4; ++k) {
        const int l = layers[k];
        Hit h;
        h.hit_id = k + 1;
        h.x = static_cast<float>(kRadii[l]);
        h.y = 0;
        h.z = static_cast<float>(kRadii[l] * std::sinh(1.9));
        h.volume_id = kVolume[l];
        h.layer_id = kLayer[l];
        TruthHit t;
        t.hit_id = h.hit_id;
        t.particle_id = 7;
        t.tpx = 5;
        ev.hits.push_back(h);
        ev.truth.push_back(t);
    }
    Particle part;
    part.particle_id = 7;
    part.px = 5;
    part.q = 1;
    ev.particles.push_back(part);
    GraphBuilder::Config c;
    std::set<EdgeKey> true_edges;
    edges_of(GraphBuilder(c).build(ev), &true_edges);
    EXPECT_EQ(true_edges, (std::set<EdgeKey>{{1, 2}, {2, 3}, {3, 4}}));
    c.skip_uncrossed_layers = false;
    true_edges.clear();
    edges_of(GraphBuilder(c).build(ev), &true_edges);
    EXPECT_EQ(true_edges, (std::set<EdgeKey>{{1, 2}, {2, 3}}));  // HEP.TrkX: cut in two
}

TEST(GraphBuilder, NoTrueEdgeIsLostAtSectionBorders) {
    const auto ev = synthetic_event(400, 0, 11);
    GraphBuilder::Config one;
    one.n_phi_sections = 1;
    one.n_eta_sections = 1;
    GraphBuilder::Config many;
    many.n_phi_sections = 16;
    many.n_eta_sections = 10;
    // With skip edges too (this synthetic detector has hits beyond the layer ends).
    EXPECT_EQ(edges_of(GraphBuilder(one).build(ev), nullptr),
              edges_of(GraphBuilder(many).build(ev), nullptr));
    // Adjacent layers only, for the count of true segments below.
    one.skip_uncrossed_layers = many.skip_uncrossed_layers = false;
    std::set<EdgeKey> true_one, true_many;
    const auto all_one = edges_of(GraphBuilder(one).build(ev), &true_one);
    const auto graphs_many = GraphBuilder(many).build(ev);
    const auto all_many = edges_of(graphs_many, &true_many);
    EXPECT_GT(graphs_many.size(), 32u);
    EXPECT_EQ(all_one, all_many);
    EXPECT_EQ(true_one, true_many);
    // Each particle with k hits on consecutive layers has k-1 true segments,
    // and the slope cut keeps all of those above ~0.5 GeV.
    size_t expected_true = 0;
    std::map<int64_t, int> hits_per_particle;
    for (const auto& t : ev.truth)
        if (t.particle_id) hits_per_particle[t.particle_id]++;
    for (const auto& [pid, n] : hits_per_particle) expected_true += n - 1;
    EXPECT_EQ(true_many.size(), expected_true);
}

TEST(GraphBuilder, FeaturesAreScaledAndLocalToTheSection) {
    const auto ev = synthetic_event(100, 50, 3);
    GraphBuilder::Config c;
    c.n_phi_sections = 4;
    const auto graphs = GraphBuilder(c).build(ev);
    ASSERT_FALSE(graphs.empty());
    for (const auto& g : graphs) {
        ASSERT_EQ(g.n_features, 3);
        for (int64_t i = 0; i < g.n_nodes; ++i) {
            const float r = g.x[i * 3], phi = g.x[i * 3 + 1];
            EXPECT_GT(r, 0.03f);
            EXPECT_LT(r, 1.03f);
            EXPECT_LT(std::abs(phi), 1.5f);  // core nodes within +-1, halo slightly beyond
        }
        for (int64_t e = 0; e < g.n_edges(); ++e)  // edges go outwards
            EXPECT_LT(g.x[g.senders[e] * 3], g.x[g.receivers[e] * 3]);
    }
}

TEST(GraphBuilder, CustomFeatureScaleDividesEachFeatureAndIsRecorded) {
    const auto ev = synthetic_event(60, 20, 4);
    GraphBuilder::Config plain;
    plain.n_phi_sections = 4;
    GraphBuilder::Config scaled = plain;
    scaled.feature_scale = {500.0, kPi / 40, 100.0};  // r x2, phi x10, z x10 of HEP.TrkX's
    const auto a = GraphBuilder(plain).build(ev), b = GraphBuilder(scaled).build(ev);
    ASSERT_EQ(a.size(), b.size());
    const auto info = GraphBuilder::feature_info(scaled);
    EXPECT_FLOAT_EQ(info.scale[0], 500.0f);
    EXPECT_FLOAT_EQ(info.scale[1], static_cast<float>(kPi / 40));
    EXPECT_FLOAT_EQ(info.scale[2], 100.0f);
    const float ratio[3] = {2.0f, 10.0f, 10.0f};
    for (size_t g = 0; g < a.size(); ++g) {
        ASSERT_EQ(a[g].x.size(), b[g].x.size());
        EXPECT_EQ(a[g].senders, b[g].senders);
        for (size_t i = 0; i < a[g].x.size(); ++i)
            EXPECT_NEAR(b[g].x[i], a[g].x[i] * ratio[i % 3], 1e-5f * (1 + std::abs(b[g].x[i])));
    }
    GraphBuilder::Config bad = plain;
    bad.feature_scale = {1000.0, 0.0, 1000.0};
    EXPECT_THROW(GraphBuilder{bad}, hepgnn::Error);
    bad.feature_scale = {1000.0, 1.0};
    EXPECT_THROW(GraphBuilder{bad}, hepgnn::Error);
}

TEST(GraphBuilder, PtCutDropsLowPtAndNoiseAndKeepsOneHitPerLayer) {
    auto ev = synthetic_event(200, 300, 5);
    // Duplicate a hit of particle 1000 on its layer, slightly further out.
    Hit dup = ev.hits[1];
    TruthHit tdup = ev.truth[1];
    dup.hit_id = tdup.hit_id = 999999;
    dup.x *= 1.001f;
    dup.y *= 1.001f;
    ev.hits.push_back(dup);
    ev.truth.push_back(tdup);
    GraphBuilder::Config c;
    c.pt_min = 1.0;
    const auto graphs = GraphBuilder(c).build(ev);
    std::set<int64_t> hits;
    for (const auto& g : graphs) {
        for (int64_t i = 0; i < g.n_nodes; ++i) {
            EXPECT_GE(g.pt[i], 1.0f);
            EXPECT_NE(g.particle_id[i], 0);
            hits.insert(g.hit_id[i]);
        }
    }
    EXPECT_EQ(hits.count(999999), 0u);
    EXPECT_EQ(
        hits.count(ev.hits[1].hit_id),
        ev.particles[0].px * ev.particles[0].px + ev.particles[0].py * ev.particles[0].py >= 1.0
            ? 1u
            : 0u);
}

TEST(GraphBuilder, HitsOnlyModeBuildsTheSameEdgesWithoutLabels) {
    const auto ev = synthetic_event(100, 100, 9);
    GraphBuilder::Config c;
    const GraphBuilder b(c);
    const auto with_truth = edges_of(b.build(ev), nullptr);
    const auto graphs = b.build_from_hits(ev.event_id, ev.hits);
    EXPECT_EQ(edges_of(graphs, nullptr), with_truth);
    for (const auto& g : graphs)
        for (auto y : g.y) EXPECT_EQ(y, 0);
}

TEST(GraphBuilder, RejectsBadConfigAndMismatchedTruth) {
    GraphBuilder::Config c;
    c.n_phi_sections = 0;
    EXPECT_THROW(GraphBuilder{c}, hepgnn::Error);
    auto ev = synthetic_event(5, 0, 1);
    ev.truth.pop_back();
    EXPECT_THROW(GraphBuilder(GraphBuilder::Config{}).build(ev), hepgnn::Error);
}
