// The inference pipeline's plumbing (pipeline/pipeline.hpp): stages run in
// order on one event, section graphs are merged by hit id, every hit of the
// event gets a label; the truth-label classifier and truth labelling of
// graphs built from hits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>

#include "data/graph_builder.hpp"
#include "data/simulation.hpp"
#include "pipeline/event_hits.hpp"
#include "pipeline/graph_construction.hpp"
#include "pipeline/label_edge_classifier.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/track_building.hpp"
#include "pipeline/track_matching.hpp"
#include "test_util.hpp"

using namespace hepgnn;
using namespace hepgnn::pipeline;
using hepgnn::testing_util::error_of;

namespace {

constexpr int64_t U = kUnassigned;

data::EventGraph graph(int64_t event_id, int32_t section, std::vector<int64_t> hit_ids,
                       std::vector<std::pair<int32_t, int32_t>> edges, std::vector<uint8_t> y) {
    data::EventGraph g;
    g.event_id = event_id;
    g.section_id = section;
    g.n_nodes = static_cast<int64_t>(hit_ids.size());
    g.n_features = 3;
    for (size_t n = 0; n < hit_ids.size(); ++n) {
        g.x.insert(g.x.end(), {0.1f * static_cast<float>(n + 1), 0.0f, 0.0f});
        g.volume_id.push_back(8);
        g.layer_id.push_back(2 * static_cast<int32_t>(n + 1));
    }
    g.hit_id = std::move(hit_ids);
    g.particle_id.assign(g.hit_id.size(), 0);
    g.pt.assign(g.hit_id.size(), 0.0f);
    for (auto [s, r] : edges) {
        g.senders.push_back(s);
        g.receivers.push_back(r);
    }
    g.y = std::move(y);
    return g;
}

// Graph construction that returns fixed graphs, whatever the hits.
class FixedGraphs final : public GraphConstruction {
public:
    explicit FixedGraphs(std::vector<data::EventGraph> graphs) : graphs_(std::move(graphs)) {}
    std::vector<data::EventGraph> build(int64_t, const std::vector<data::Hit>&) const override {
        return graphs_;
    }
    data::FeatureInfo features() const override { return {{"r", "phi", "z"}, {1, 1, 1}}; }

private:
    std::vector<data::EventGraph> graphs_;
};

std::vector<data::Hit> hits_with_ids(std::vector<int64_t> ids) {
    std::vector<data::Hit> hits;
    for (int64_t id : ids) hits.push_back({id, 0, 0, 0, 8, 2, 1});
    return hits;
}

Pipeline make_pipeline(std::vector<data::EventGraph> graphs, int min_hits = 3) {
    TrackBuildingConfig tracks;
    tracks.min_hits = min_hits;
    return Pipeline(std::make_unique<FixedGraphs>(std::move(graphs)),
                    std::make_unique<LabelEdgeClassifier>(LabelEdgeClassifier::Config{}),
                    std::make_unique<TrackBuilder>(tracks));
}

}  // namespace

TEST(Pipeline, RunsTheThreeStagesAndLabelsEveryHitOfTheEvent) {
    // Hits 1..4 form a track; hit 5 is in no graph, hit 6 in a graph but alone.
    auto pipe = make_pipeline(
        {graph(3, 0, {1, 2, 3, 4, 6}, {{0, 1}, {1, 2}, {2, 3}, {3, 4}}, {1, 1, 1, 0})});
    StageTimes times;
    const auto rec = pipe.run(3, hits_with_ids({1, 2, 3, 4, 5, 6}), &times);
    EXPECT_EQ(rec.event_id, 3);
    ASSERT_EQ(rec.graphs.size(), 1u);
    ASSERT_EQ(rec.logits.size(), 1u);
    EXPECT_FLOAT_EQ(rec.logits[0][0], 10.0f);
    EXPECT_FLOAT_EQ(rec.logits[0][3], -10.0f);
    EXPECT_EQ(rec.candidates.n_candidates, 1);
    EXPECT_EQ(rec.labels_of({1, 2, 3, 4, 5, 6}), (std::vector<int64_t>{0, 0, 0, 0, U, U}));
    EXPECT_EQ(rec.labels_of({6, 99, 4}), (std::vector<int64_t>{U, U, 0}));
    for (const char* stage : {"graph_building", "gnn", "track_building"})
        EXPECT_EQ(times.all().count(stage), 1u) << stage;
    EXPECT_EQ(rec.hits.layer.size(), 5u);  // layers travel to track building
}

TEST(Pipeline, MergesSectionsByHitIdSoTracksCrossBorders) {
    // Hit 3 is in both sections (a halo node of section 0's edge 2 -> 3).
    auto pipe = make_pipeline({graph(1, 0, {1, 2, 3}, {{0, 1}, {1, 2}}, {1, 1}),
                               graph(1, 1, {3, 4, 5}, {{0, 1}, {1, 2}}, {1, 1})});
    const auto rec = pipe.run(1, hits_with_ids({1, 2, 3, 4, 5}));
    EXPECT_EQ(rec.hits.hit_id.size(), 5u);
    EXPECT_EQ(rec.candidates.n_candidates, 1);
    EXPECT_EQ(rec.labels_of({1, 2, 3, 4, 5}), std::vector<int64_t>(5, 0));
}

TEST(Pipeline, AnEventWithoutGraphsLeavesEveryHitUnassigned) {
    auto pipe = make_pipeline({});
    const auto rec = pipe.run(5, hits_with_ids({1, 2}));
    EXPECT_TRUE(rec.graphs.empty());
    EXPECT_EQ(rec.labels_of({1, 2}), (std::vector<int64_t>{U, U}));
}

TEST(Pipeline, RunsOnGivenGraphsOfOneEventAtATime) {
    Pipeline pipe(nullptr, std::make_unique<LabelEdgeClassifier>(LabelEdgeClassifier::Config{}),
                  std::make_unique<TrackBuilder>(TrackBuildingConfig{}));
    EXPECT_FALSE(pipe.has_graph_construction());
    const auto rec = pipe.run_on_graphs({graph(2, 0, {7, 8, 9}, {{0, 1}, {1, 2}}, {1, 1})});
    EXPECT_EQ(rec.labels_of({7, 8, 9}), (std::vector<int64_t>{0, 0, 0}));
    EXPECT_NE(error_of([&] {
                  pipe.run_on_graphs({graph(2, 0, {1}, {}, {}), graph(4, 0, {2}, {}, {})});
              }).find("graphs of events 2 and 4 given together"),
              std::string::npos);
    EXPECT_NE(error_of([&] { pipe.run(2, {}); }).find("no graph construction stage"),
              std::string::npos);
    EXPECT_NE(error_of([] { Pipeline p(nullptr, nullptr, nullptr); }).find("are required"),
              std::string::npos);
}

TEST(LabelEdgeClassifier, NoiseIsSeededPerGraph) {
    std::vector<std::pair<int32_t, int32_t>> edges;
    std::vector<uint8_t> y;
    for (int32_t e = 0; e < 200; ++e) {
        edges.emplace_back(e % 10, (e + 1) % 10);
        y.push_back(e % 3 == 0);
    }
    const auto g = graph(9, 2, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, edges, y);
    LabelEdgeClassifier::Config c;
    c.sigma = 2.0;
    const auto a = LabelEdgeClassifier(c).classify({g});
    const auto other = graph(9, 3, g.hit_id, edges, y);
    // The same graph scores the same alone or beside another.
    EXPECT_EQ(LabelEdgeClassifier(c).classify({other, g})[1], a[0]);
    c.seed = 2;
    EXPECT_NE(LabelEdgeClassifier(c).classify({g})[0], a[0]);
    int wrong_side = 0;
    for (size_t e = 0; e < y.size(); ++e) wrong_side += (a[0][e] > 0) != (y[e] != 0);
    EXPECT_LT(wrong_side, 10);  // P(|N| > 5) is tiny: the labels still show
    c.sigma = 0;
    c.flip = 1.0;
    const auto flipped = LabelEdgeClassifier(c).classify({g})[0];
    for (size_t e = 0; e < y.size(); ++e) EXPECT_EQ(flipped[e], y[e] ? -10.0f : 10.0f);
    EXPECT_NE(error_of([] {
                  LabelEdgeClassifier::Config bad;
                  bad.flip = 2;
                  LabelEdgeClassifier x(bad);
              }).find("flip 2 is outside [0, 1]"),
              std::string::npos);
    auto unlabeled = g;
    unlabeled.y.clear();
    EXPECT_NE(error_of([&] {
                  LabelEdgeClassifier({}).classify({unlabeled});
              }).find("event 9 section 2: the graph has no edge labels"),
              std::string::npos);
}

TEST(GraphConstruction, TruthLabelsJoinConsecutiveStepsAndBothHitsOfADouble) {
    // Particle 1: hits 10 (layer 2), 11 and 12 (both layer 4: a double), 13
    // (layer 6); hit 14 is noise.
    data::TrackmlEvent ev;
    ev.event_id = 1;
    const float r[] = {32, 72, 73, 116, 80};
    const int32_t layer[] = {2, 4, 4, 6, 4};
    for (int i = 0; i < 5; ++i) {
        ev.hits.push_back({10 + i, r[i], 0, 0, 8, layer[i], 1});
        data::TruthHit t;
        t.hit_id = 10 + i;
        t.particle_id = i < 4 ? 1 : 0;
        t.tx = r[i];
        t.weight = 0.25f;
        ev.truth.push_back(t);
    }
    data::Particle p;
    p.particle_id = 1;
    p.px = 3.0f;
    ev.particles.push_back(p);
    // Nodes 0..4 are hits 10..14.
    std::vector<data::EventGraph> graphs = {
        graph(1, 0, {10, 11, 12, 13, 14}, {{0, 1}, {0, 2}, {1, 3}, {2, 3}, {0, 3}, {4, 3}}, {})};
    label_with_truth(graphs, ev);
    EXPECT_EQ(graphs[0].y, (std::vector<uint8_t>{1, 1, 1, 1, 0, 0}));
    EXPECT_EQ(graphs[0].particle_id, (std::vector<int64_t>{1, 1, 1, 1, 0}));
    EXPECT_FLOAT_EQ(graphs[0].pt[2], 3.0f);
    EXPECT_FLOAT_EQ(graphs[0].pt[4], 0.0f);
    graphs[0].hit_id[4] = 99;
    EXPECT_NE(error_of([&] {
                  label_with_truth(graphs, ev);
              }).find("holds hit_id 99, which the event's truth does not list"),
              std::string::npos);
}

// Issue #18: eta comes from unscaled r and z. With prepare_demo.yaml's scales
// (r / 1000 mm, z / 100 mm) a hit at r = z = 500 mm has features 0.5 and 5.
TEST(EventHits, EtaFromUnscaledCoordinates) {
    hepgnn::data::EventGraph g;
    g.event_id = 1;
    g.n_nodes = 2;
    g.n_features = 3;
    g.x = {0.5f, 0.0f, 5.0f, 0.2f, 0.1f, -1.0f};  // (500, 500) and (200, -100) mm
    g.hit_id = {10, 11};
    g.senders = {0};
    g.receivers = {1};
    g.y = {0};
    const auto merged = hepgnn::pipeline::merge_event_graphs({g}, {{0.0f}}, 0, 2, 100.0 / 1000.0);
    ASSERT_EQ(merged.size(), 1u);
    ASSERT_EQ(merged[0].eta.size(), 2u);
    EXPECT_NEAR(merged[0].eta[0], std::asinh(1.0), 1e-6);
    EXPECT_NEAR(merged[0].eta[1], std::asinh(-0.5), 1e-6);
}

// Issue #18, end to end: track efficiency vs eta from graphs whose z is scaled
// unlike r (prepare_demo.yaml's z / 100 mm) equals a direct count from truth:
// each reconstructable particle (pT > 1 GeV, >= 3 hits in the graphs) in the
// bin of its first graph hit's true-position eta. The default scales give the
// same histogram, so eta does not depend on how features are scaled.
TEST(EventHits, EfficiencyVsEtaMatchesTruthForAnyFeatureScale) {
    data::EventSimulator::Config sim;
    sim.n_particles = 2000;
    const data::TrackmlEvent event = data::EventSimulator(sim).simulate(1, 11);
    std::unordered_map<int64_t, const data::Hit*> hit_of;
    std::unordered_map<int64_t, int64_t> particle_of_hit;
    for (size_t i = 0; i < event.hits.size(); ++i) {
        hit_of[event.hits[i].hit_id] = &event.hits[i];
        particle_of_hit[event.hits[i].hit_id] = event.truth[i].particle_id;
    }
    std::unordered_map<int64_t, double> pt_of;
    for (const auto& p : event.particles) pt_of[p.particle_id] = std::hypot(p.px, p.py);

    std::vector<std::vector<int64_t>> reconstructable;
    for (const std::vector<double>& scale :
         {std::vector<double>{1000, M_PI / 8, 100}, std::vector<double>{1000, M_PI / 8, 1000}}) {
        data::GraphBuilder::Config cfg;
        cfg.feature_scale = scale;
        Pipeline pipe(std::make_unique<DetectorGraphConstruction>(cfg),
                      std::make_unique<LabelEdgeClassifier>(LabelEdgeClassifier::Config{}),
                      std::make_unique<TrackBuilder>(TrackBuildingConfig{}));
        const auto rec = pipe.run_on_graphs(data::GraphBuilder(cfg).build(event));
        const TrackMatchingConfig match;
        const auto m = match_tracks(match, rec.candidates.labels, rec.hits.particle_id, rec.hits.pt,
                                    rec.hits.eta);

        // The direct count: hits per particle among the graphs' hits, eta of its first one.
        std::unordered_map<int64_t, std::pair<int, double>> seen;  // particle -> (hits, eta)
        for (const int64_t id : rec.hits.hit_id) {
            const int64_t pid = particle_of_hit.at(id);
            if (pid == 0) continue;
            const data::Hit& h = *hit_of.at(id);
            auto [it, first] = seen.try_emplace(pid, 0, std::asinh(h.z / std::hypot(h.x, h.y)));
            ++it->second.first;
        }
        std::vector<int64_t> want(match.eta_bins.size() - 1, 0);
        int64_t n_counted = 0, n_forward = 0;
        for (const auto& [pid, hits_eta] : seen) {
            const auto [n_hits, eta] = hits_eta;
            if (n_hits < match.min_hits || pt_of.at(pid) <= match.pt_min) continue;
            const auto bin = std::upper_bound(match.eta_bins.begin(), match.eta_bins.end(), eta) -
                             match.eta_bins.begin() - 1;
            if (bin < 0 || bin >= static_cast<long>(want.size())) continue;
            ++want[static_cast<size_t>(bin)];
            ++n_counted;
            n_forward += std::fabs(eta) > 1.7;
        }
        ASSERT_GT(n_counted, 100);
        EXPECT_EQ(m.efficiency_vs_eta.reconstructable, want);
        // Some sit beyond |eta| 1.7, where eta from scaled z used to push them out.
        EXPECT_GT(n_forward, 10);
        reconstructable.push_back(m.efficiency_vs_eta.reconstructable);
    }
    EXPECT_EQ(reconstructable[0], reconstructable[1]);
}
