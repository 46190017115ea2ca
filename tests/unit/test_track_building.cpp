#include <gtest/gtest.h>

#include "test_util.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <queue>
#include <random>
#include <string>

#include "core/error.hpp"
#include "pipeline/track_building.hpp"

using namespace hepgnn::pipeline;

namespace {

using hepgnn::testing_util::error_of;

using Labels = std::vector<int64_t>;
constexpr int64_t U = kUnassigned;

struct Edges {
    std::vector<int64_t> senders, receivers;
    std::vector<float> scores;
    void add(int64_t s, int64_t r, float score) {
        senders.push_back(s);
        receivers.push_back(r);
        scores.push_back(score);
    }
};

TrackBuildingConfig config(double cut, int min_hits, std::string method = "components") {
    TrackBuildingConfig c;
    c.cut = cut;
    c.seed_cut = 0.0;  // the tests of the seed cut set their own
    c.min_hits = min_hits;
    c.method = std::move(method);
    return c;
}

TrackCandidates build(const TrackBuildingConfig& c, int64_t n_hits, const Edges& e) {
    return build_track_candidates(c, n_hits, e.senders, e.receivers, e.scores);
}

// Two particles on four layers: A = hits 0,2,4,6 and B = 1,3,5,7 (hit 2l and
// 2l+1 on layer l), true edges scored high, plus low-scored fakes between them.
Edges two_tracks() {
    Edges e;
    for (int l = 0; l < 3; ++l) {
        e.add(2 * l, 2 * l + 2, 0.9f);      // A
        e.add(2 * l + 1, 2 * l + 3, 0.8f);  // B
        e.add(2 * l, 2 * l + 3, 0.1f);      // fakes
        e.add(2 * l + 1, 2 * l + 2, 0.2f);
    }
    return e;
}

// Reference: breadth-first search over the edges above the cut, labels in
// order of first hit, small components dropped.
Labels reference_components(int64_t n, const Edges& e, double cut, int min_hits,
                            const std::vector<bool>* keep = nullptr) {
    std::vector<std::vector<int64_t>> adj(n);
    for (size_t k = 0; k < e.senders.size(); ++k) {
        if (keep ? !(*keep)[k] : !(e.scores[k] > static_cast<float>(cut))) continue;
        adj[e.senders[k]].push_back(e.receivers[k]);
        adj[e.receivers[k]].push_back(e.senders[k]);
    }
    Labels labels(n, U);
    std::vector<int64_t> comp(n, -1);
    int64_t next = 0;
    for (int64_t i = 0; i < n; ++i) {
        if (comp[i] >= 0) continue;
        std::vector<int64_t> members{i};
        comp[i] = i;
        for (size_t q = 0; q < members.size(); ++q)
            for (int64_t j : adj[members[q]])
                if (comp[j] < 0) {
                    comp[j] = i;
                    members.push_back(j);
                }
        if (static_cast<int>(members.size()) < min_hits) continue;
        for (int64_t j : members) labels[j] = next;
        ++next;
    }
    return labels;
}

// Reference walkthrough selection: sort by (score desc, index asc), greedy.
std::vector<bool> reference_walkthrough_edges(int64_t n, const Edges& e, double cut) {
    std::vector<size_t> order;
    for (size_t k = 0; k < e.scores.size(); ++k)
        if (e.scores[k] > static_cast<float>(cut)) order.push_back(k);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return e.scores[a] > e.scores[b]; });
    std::vector<bool> out(n), in(n), keep(e.scores.size());
    for (size_t k : order) {
        if (out[e.senders[k]] || in[e.receivers[k]]) continue;
        out[e.senders[k]] = in[e.receivers[k]] = keep[k] = true;
    }
    return keep;
}

}  // namespace

TEST(TrackBuilding, TwoCleanTracksBecomeTwoCandidates) {
    const auto t = build(config(0.5, 3), 8, two_tracks());
    EXPECT_EQ(t.labels, (Labels{0, 1, 0, 1, 0, 1, 0, 1}));
    EXPECT_EQ(t.n_candidates, 2);
}

TEST(TrackBuilding, LabelsFollowTheFirstHitOfEachCandidate) {
    Edges e;
    e.add(3, 5, 0.9f);  // candidate {1, 3, 5} is listed first ...
    e.add(1, 3, 0.9f);
    e.add(0, 2, 0.9f);  // ... but {0, 2, 4} holds hit 0, so it is candidate 0
    e.add(2, 4, 0.9f);
    const auto t = build(config(0.5, 3), 6, e);
    EXPECT_EQ(t.labels, (Labels{0, 1, 0, 1, 0, 1}));
    EXPECT_EQ(t.n_candidates, 2);
}

TEST(TrackBuilding, ScoreEqualToTheCutIsExcluded) {
    Edges e;
    e.add(0, 1, 0.5f);
    e.add(1, 2, 0.9f);
    EXPECT_EQ(build(config(0.5, 2), 3, e).labels, (Labels{U, 0, 0}));
    EXPECT_EQ(build(config(0.49, 2), 3, e).labels, (Labels{0, 0, 0}));
    // Compared as floats: 0.7f is "equal" to the cut 0.7 though 0.7f < 0.7.
    Edges f;
    f.add(0, 1, 0.7f);
    f.add(1, 2, std::nextafter(0.7f, 1.0f));
    EXPECT_EQ(build(config(0.7, 2), 3, f).labels, (Labels{U, 0, 0}));
}

TEST(TrackBuilding, CandidatesBelowMinHitsAreUnassigned) {
    Edges e;
    e.add(0, 1, 0.9f);  // 2 hits
    e.add(2, 3, 0.9f);  // 3 hits
    e.add(3, 4, 0.9f);
    auto t = build(config(0.5, 3), 6, e);
    EXPECT_EQ(t.labels, (Labels{U, U, 0, 0, 0, U}));
    EXPECT_EQ(t.n_candidates, 1);
    t = build(config(0.5, 2), 6, e);
    EXPECT_EQ(t.labels, (Labels{0, 0, 1, 1, 1, U}));
    EXPECT_EQ(t.n_candidates, 2);
    t = build(config(0.5, 1), 6, e);  // every isolated hit is a candidate of its own
    EXPECT_EQ(t.labels, (Labels{0, 0, 1, 1, 1, 2}));
    EXPECT_EQ(t.n_candidates, 3);
}

TEST(TrackBuilding, EmptyEdgeListLeavesEveryHitUnassigned) {
    const Edges none;
    auto t = build(config(0.5, 3), 5, none);
    EXPECT_EQ(t.labels, Labels(5, U));
    EXPECT_EQ(t.n_candidates, 0);
    t = build(config(0.5, 3, "walkthrough"), 5, none);
    EXPECT_EQ(t.labels, Labels(5, U));
    EXPECT_EQ(t.n_candidates, 0);
    t = build(config(0.5, 3), 0, none);
    EXPECT_TRUE(t.labels.empty());
    EXPECT_EQ(t.n_candidates, 0);
    // Raw pointers may be null when there are no edges.
    TrackBuilder builder(config(0.5, 1));
    t = builder.build(2, static_cast<const int64_t*>(nullptr), nullptr, nullptr, 0);
    EXPECT_EQ(t.labels, (Labels{0, 1}));
}

TEST(TrackBuilding, AllEdgesBelowTheCutGiveNoCandidates) {
    const auto t = build(config(0.95, 3), 8, two_tracks());
    EXPECT_EQ(t.labels, Labels(8, U));
    EXPECT_EQ(t.n_candidates, 0);
}

TEST(TrackBuilding, WalkthroughSplitsAJunctionThatComponentsMerge) {
    Edges e = two_tracks();
    e.add(2, 5, 0.7f);  // a wrong edge above the cut: hit 2 has two continuations
    const auto merged = build(config(0.5, 3), 8, e);
    EXPECT_EQ(merged.labels, Labels(8, 0));
    EXPECT_EQ(merged.n_candidates, 1);
    const auto split = build(config(0.5, 3, "walkthrough"), 8, e);
    EXPECT_EQ(split.labels, (Labels{0, 1, 0, 1, 0, 1, 0, 1}));
    EXPECT_EQ(split.n_candidates, 2);
}

TEST(TrackBuilding, WalkthroughLetsAHitTakeItsSecondBestContinuation) {
    // Hits 0,1 on layer 0; 2,3 on layer 1; 4,5 on layer 2. Hit 0's best
    // continuation (to 2) loses to the better 1->2, so 0 continues to 3.
    Edges e;
    e.add(1, 2, 0.95f);
    e.add(0, 2, 0.9f);
    e.add(0, 3, 0.8f);
    e.add(2, 4, 0.9f);
    e.add(3, 5, 0.9f);
    const auto t = build(config(0.5, 3, "walkthrough"), 6, e);
    EXPECT_EQ(t.labels, (Labels{0, 1, 1, 0, 1, 0}));
    EXPECT_EQ(t.n_candidates, 2);
    // Components see one blob of 6 hits.
    EXPECT_EQ(build(config(0.5, 3), 6, e).labels, Labels(6, 0));
}

TEST(TrackBuilding, WalkthroughBreaksTiesByEdgeIndex) {
    Edges e;
    e.add(0, 2, 0.8f);  // first listed: kept
    e.add(0, 1, 0.8f);
    const auto t = build(config(0.5, 2, "walkthrough"), 3, e);
    EXPECT_EQ(t.labels, (Labels{0, U, 0}));
}

TEST(TrackBuilding, Int32AndInt64IndicesGiveTheSameLabels) {
    const Edges e = two_tracks();
    const std::vector<int32_t> s(e.senders.begin(), e.senders.end());
    const std::vector<int32_t> r(e.receivers.begin(), e.receivers.end());
    for (const char* method : {"components", "walkthrough"}) {
        const auto c = config(0.15, 3, method);
        EXPECT_EQ(build_track_candidates(c, 8, s, r, e.scores).labels, build(c, 8, e).labels)
            << method;
    }
}

TEST(TrackBuilding, ABuilderReusedOnGraphsOfDifferentSizesMatchesFreshOnes) {
    std::mt19937 rng(5);
    TrackBuilder reused(config(0.5, 2));
    for (int n : {500, 20, 300, 1, 0, 50}) {
        Edges e;
        std::uniform_int_distribution<int64_t> hit(0, std::max(n - 1, 0));
        std::uniform_real_distribution<float> score(0.0f, 1.0f);
        for (int k = 0; n > 0 && k < n; ++k) e.add(hit(rng), hit(rng), score(rng));
        const auto a = reused.build(n, e.senders.data(), e.receivers.data(), e.scores.data(),
                                    static_cast<int64_t>(e.scores.size()));
        EXPECT_EQ(a.labels, build(config(0.5, 2), n, e).labels) << n << " hits";
        EXPECT_EQ(a.labels, reference_components(n, e, 0.5, 2)) << n << " hits";
    }
}

TEST(TrackBuilding, UnionFindMatchesBreadthFirstSearchOnRandomGraphs) {
    std::mt19937 rng(12345);
    int64_t total_candidates = 0;
    for (int trial = 0; trial < 300; ++trial) {
        const int n = std::uniform_int_distribution<int>(1, 400)(rng);
        const int m = std::uniform_int_distribution<int>(0, 2 * n)(rng);
        std::uniform_int_distribution<int64_t> hit(0, n - 1);
        std::uniform_real_distribution<float> score(0.0f, 1.0f);
        Edges e;
        for (int k = 0; k < m; ++k) e.add(hit(rng), hit(rng), score(rng));
        const double cut = std::uniform_real_distribution<double>(0.0, 1.0)(rng);
        const int min_hits = 1 + trial % 4;
        const auto t = build(config(cut, min_hits), n, e);
        const auto expected = reference_components(n, e, cut, min_hits);
        ASSERT_EQ(t.labels, expected) << "trial " << trial;
        EXPECT_EQ(t.n_candidates, *std::max_element(expected.begin(), expected.end()) + 1);
        total_candidates += t.n_candidates;

        const auto w = build(config(cut, min_hits, "walkthrough"), n, e);
        const auto keep = reference_walkthrough_edges(n, e, cut);
        ASSERT_EQ(w.labels, reference_components(n, e, cut, min_hits, &keep))
            << "walkthrough, trial " << trial;
    }
    EXPECT_GT(total_candidates, 1000);  // the graphs were not trivial
}

TEST(TrackBuilding, WalkthroughCandidatesAreChains) {
    // Every hit keeps at most one outgoing and one incoming edge, so a
    // candidate of k hits on a layered graph has exactly k-1 kept edges.
    std::mt19937 rng(7);
    const int layers = 8, per_layer = 50;
    Edges e;
    std::uniform_int_distribution<int64_t> pick(0, per_layer - 1);
    std::uniform_real_distribution<float> score(0.0f, 1.0f);
    for (int l = 0; l + 1 < layers; ++l)
        for (int k = 0; k < 3 * per_layer; ++k)
            e.add(l * per_layer + pick(rng), (l + 1) * per_layer + pick(rng), score(rng));
    const int n = layers * per_layer;
    const auto keep = reference_walkthrough_edges(n, e, 0.3);
    std::vector<int> out(n), in(n);
    for (size_t k = 0; k < keep.size(); ++k)
        if (keep[k]) {
            ++out[e.senders[k]];
            ++in[e.receivers[k]];
        }
    EXPECT_LE(*std::max_element(out.begin(), out.end()), 1);
    EXPECT_LE(*std::max_element(in.begin(), in.end()), 1);
    const auto t = build(config(0.3, 1, "walkthrough"), n, e);
    std::vector<int64_t> hits(t.n_candidates), edges(t.n_candidates);
    for (int i = 0; i < n; ++i) ++hits[t.labels[i]];
    for (size_t k = 0; k < keep.size(); ++k)
        if (keep[k]) ++edges[t.labels[e.senders[k]]];
    for (int64_t c = 0; c < t.n_candidates; ++c) EXPECT_EQ(edges[c], hits[c] - 1) << c;
    EXPECT_GT(*std::max_element(hits.begin(), hits.end()), 4);
}

TEST(TrackBuilding, InvalidInputIsRejectedWithAClearMessage) {
    Edges e;
    e.add(0, 1, 0.9f);
    e.add(1, 3, 0.9f);
    EXPECT_NE(error_of([&] {
                  build(config(0.5, 3), 3, e);
              }).find("edge 1 joins hits 1 -> 3, but the graph has 3 hits"),
              std::string::npos);
    Edges neg;
    neg.add(-1, 0, 0.9f);
    EXPECT_NE(error_of([&] {
                  build(config(0.5, 3, "walkthrough"), 3, neg);
              }).find("edge 0 joins hits -1 -> 0"),
              std::string::npos);

    Edges bad_score;
    bad_score.add(0, 1, 3.5f);
    EXPECT_NE(error_of([&] {
                  build(config(0.5, 3), 2, bad_score);
              }).find("edge 0 has score 3.5, outside [0, 1]"),
              std::string::npos);
    bad_score.scores[0] = std::numeric_limits<float>::quiet_NaN();
    EXPECT_NE(error_of([&] { build(config(0.5, 3), 2, bad_score); }).find("outside [0, 1]"),
              std::string::npos);

    Edges short_scores = e;
    short_scores.scores.pop_back();
    EXPECT_NE(error_of([&] {
                  build(config(0.5, 3), 4, short_scores);
              }).find("sizes mismatch: 2 senders, 2 receivers, 1 scores"),
              std::string::npos);

    EXPECT_NE(error_of([] { TrackBuilder b(config(1.5, 3)); }).find("cut 1.5 is outside [0, 1]"),
              std::string::npos);
    EXPECT_NE(error_of([] { TrackBuilder b(config(-0.1, 3)); }).find("outside [0, 1]"),
              std::string::npos);
    EXPECT_NE(error_of([] { TrackBuilder b(config(0.5, 0)); }).find("min_hits is 0"),
              std::string::npos);
    EXPECT_NE(error_of([] { TrackBuilder b(config(0.5, 3, "dfs")); })
                  .find("unknown method 'dfs'; use components, junction_removal, walkthrough or "
                        "walkthrough_doubles"),
              std::string::npos);
    EXPECT_NE(error_of([&] { build(config(0.5, 3), -2, Edges{}); }).find("-2 hits"),
              std::string::npos);
}

// ---- junction removal and double hits ---------------------------------------

namespace {

TrackCandidates build_with_layers(const TrackBuildingConfig& c, int64_t n_hits, const Edges& e,
                                  const std::vector<int64_t>& layers) {
    return build_track_candidates(c, n_hits, e.senders, e.receivers, e.scores, layers);
}

// One particle with a double hit: A = 0 (layer 0), B1 = 1 and B2 = 2 (both on
// layer 1), C = 3 (layer 2), D = 4 (layer 3). Both Bs connect to A and C.
// The scores make A's best continuation B1 but C's best origin B2.
Edges double_hit_track() {
    Edges e;
    e.add(0, 1, 0.95f);
    e.add(0, 2, 0.90f);
    e.add(1, 3, 0.85f);
    e.add(2, 3, 0.90f);
    e.add(3, 4, 0.90f);
    return e;
}
const std::vector<int64_t> kDoubleHitLayers = {0, 1, 1, 2, 3};

// Reference junction removal: an edge above the cut survives when it is the
// best (score, then lower index) out of its sender and into its receiver.
std::vector<bool> reference_junction_removal(int64_t n, const Edges& e, double cut) {
    std::vector<int64_t> best_out(n, -1), best_in(n, -1);
    const auto better = [&](int64_t a, int64_t b) {  // is edge a better than edge b?
        return b < 0 || e.scores[a] > e.scores[b] || (e.scores[a] == e.scores[b] && a < b);
    };
    for (size_t k = 0; k < e.scores.size(); ++k) {
        if (!(e.scores[k] > static_cast<float>(cut))) continue;
        const auto i = static_cast<int64_t>(k);
        if (better(i, best_out[e.senders[k]])) best_out[e.senders[k]] = i;
        if (better(i, best_in[e.receivers[k]])) best_in[e.receivers[k]] = i;
    }
    std::vector<bool> keep(e.scores.size());
    for (size_t k = 0; k < e.scores.size(); ++k)
        keep[k] = best_out[e.senders[k]] == static_cast<int64_t>(k) &&
                  best_in[e.receivers[k]] == static_cast<int64_t>(k);
    return keep;
}

}  // namespace

TEST(TrackBuilding, EveryMethodIsAcceptedByName) {
    for (const auto& method : track_building_methods())
        EXPECT_EQ(TrackBuilder(config(0.5, 3, method)).describe(), method);
    EXPECT_EQ(TrackBuildingConfig{}.method, "walkthrough_doubles");  // the measured best
}

TEST(TrackBuilding, ADoubleHitCutsAChainInTwoButNotWalkthroughDoubles) {
    const Edges e = double_hit_track();
    // Walkthrough: A -> B1 first, then B2 -> C takes C's only slot: {A, B1}
    // (too short) and {B2, C, D}. Junction removal drops A -> B2 and B1 -> C
    // the same way.
    for (const char* method : {"walkthrough", "junction_removal"}) {
        const auto t = build_with_layers(config(0.5, 3, method), 5, e, kDoubleHitLayers);
        EXPECT_EQ(t.labels, (Labels{U, U, 0, 0, 0})) << method;
    }
    // Components keep all five (one particle, nothing to merge with).
    EXPECT_EQ(build(config(0.5, 3), 5, e).labels, Labels(5, 0));
    // B1 and B2 share A and C: one pair, one slot each side: the whole track.
    const auto t = build_with_layers(config(0.5, 3, "walkthrough_doubles"), 5, e, kDoubleHitLayers);
    EXPECT_EQ(t.labels, Labels(5, 0));
    EXPECT_EQ(t.n_candidates, 1);
    // Without layers it cannot know that B1 and B2 are a double: walkthrough.
    EXPECT_EQ(build(config(0.5, 3, "walkthrough_doubles"), 5, e).labels, (Labels{U, U, 0, 0, 0}));
}

TEST(TrackBuilding, ADoubleHitOnTheLastLayerJoinsItsTrack) {
    // A -> B -> {C1, C2}: C1 and C2 share B and have nothing beyond.
    Edges e;
    e.add(0, 1, 0.9f);
    e.add(1, 2, 0.9f);
    e.add(1, 3, 0.8f);
    const std::vector<int64_t> layers = {0, 1, 2, 2};
    EXPECT_EQ(build_with_layers(config(0.5, 3, "walkthrough"), 4, e, layers).labels,
              (Labels{0, 0, 0, U}));
    EXPECT_EQ(build_with_layers(config(0.5, 3, "walkthrough_doubles"), 4, e, layers).labels,
              Labels(4, 0));
}

TEST(TrackBuilding, TwoTracksThatPassCloseByAreNotPaired) {
    // Particles a = 0 -> 1 -> 4 and b = 2 -> 3 -> 5, hits 1 and 3 on one
    // layer, a fake 0 -> 3 above the cut: 1 and 3 share 0 on the in side but
    // nothing on the out side, where both continue: not a double hit.
    Edges e;
    e.add(0, 1, 0.9f);
    e.add(2, 3, 0.9f);
    e.add(1, 4, 0.9f);
    e.add(3, 5, 0.9f);
    e.add(0, 3, 0.7f);
    const std::vector<int64_t> layers = {0, 1, 0, 1, 2, 2};
    const auto t = build_with_layers(config(0.5, 3, "walkthrough_doubles"), 6, e, layers);
    EXPECT_EQ(t.labels, (Labels{0, 0, 1, 1, 0, 1}));
    EXPECT_EQ(t.labels, build_with_layers(config(0.5, 3, "walkthrough"), 6, e, layers).labels);
    // Components merge the two.
    EXPECT_EQ(build(config(0.5, 3), 6, e).labels, Labels(6, 0));
}

TEST(TrackBuilding, JunctionRemovalSplitsABranchLikeWalkthrough) {
    Edges e = two_tracks();
    e.add(2, 5, 0.7f);  // a branch: hit 2 continues to 4 (0.9) and to 5 (0.7)
    const auto t = build(config(0.5, 3, "junction_removal"), 8, e);
    EXPECT_EQ(t.labels, (Labels{0, 1, 0, 1, 0, 1, 0, 1}));
    EXPECT_EQ(t.n_candidates, 2);
}

TEST(TrackBuilding, JunctionRemovalDropsWhatWalkthroughReroutes) {
    // Hit 0's best continuation (to 2) loses at 2 to the better 1 -> 2.
    // Walkthrough gives 0 its second best (to 3); junction removal keeps only
    // 0's best, which 2 has removed, so 0 is left alone and {3, 5} is short.
    Edges e;
    e.add(1, 2, 0.95f);
    e.add(0, 2, 0.9f);
    e.add(0, 3, 0.8f);
    e.add(2, 4, 0.9f);
    e.add(3, 5, 0.9f);
    EXPECT_EQ(build(config(0.5, 2, "junction_removal"), 6, e).labels, (Labels{U, 0, 0, 1, 0, 1}));
    EXPECT_EQ(build(config(0.5, 2, "walkthrough"), 6, e).labels, (Labels{0, 1, 1, 0, 1, 0}));
}

TEST(TrackBuilding, JunctionRemovalMatchesAReferenceOnRandomGraphs) {
    std::mt19937 rng(99);
    for (int trial = 0; trial < 200; ++trial) {
        const int n = std::uniform_int_distribution<int>(1, 300)(rng);
        const int m = std::uniform_int_distribution<int>(0, 3 * n)(rng);
        std::uniform_int_distribution<int64_t> hit(0, n - 1);
        std::uniform_int_distribution<int> coarse(0, 20);  // ties are common
        Edges e;
        for (int k = 0; k < m; ++k) e.add(hit(rng), hit(rng), coarse(rng) / 20.0f);
        const double cut = std::uniform_real_distribution<double>(0.0, 0.9)(rng);
        const int min_hits = 1 + trial % 3;
        const auto keep = reference_junction_removal(n, e, cut);
        ASSERT_EQ(build(config(cut, min_hits, "junction_removal"), n, e).labels,
                  reference_components(n, e, cut, min_hits, &keep))
            << "trial " << trial;
    }
}

TEST(TrackBuilding, WalkthroughDoublesIsWalkthroughWhenNoTwoHitsShareALayer) {
    std::mt19937 rng(3);
    for (int trial = 0; trial < 100; ++trial) {
        const int n = std::uniform_int_distribution<int>(1, 300)(rng);
        std::uniform_int_distribution<int64_t> hit(0, n - 1);
        std::uniform_real_distribution<float> score(0.0f, 1.0f);
        Edges e;
        for (int k = 0; k < 2 * n; ++k) e.add(hit(rng), hit(rng), score(rng));
        std::vector<int64_t> layers(n);
        for (int i = 0; i < n; ++i) layers[i] = i;
        ASSERT_EQ(build_with_layers(config(0.4, 2, "walkthrough_doubles"), n, e, layers).labels,
                  build(config(0.4, 2, "walkthrough"), n, e).labels)
            << "trial " << trial;
    }
}

TEST(TrackBuilding, WalkthroughDoublesKeepsEveryHitOfLayeredTracksWithDoubles) {
    // 200 particles over 10 layers, each hit doubled with probability 0.2,
    // fakes to other particles' hits on the next layer below and above the
    // cut (score order random). Every particle must come out whole.
    std::mt19937 rng(17);
    const int n_particles = 200, n_layers = 10;
    std::vector<int64_t> layers, particle;
    std::vector<std::vector<std::vector<int64_t>>> hits(
        n_particles, std::vector<std::vector<int64_t>>(n_layers));
    for (int p = 0; p < n_particles; ++p)
        for (int l = 0; l < n_layers; ++l) {
            const int copies = std::bernoulli_distribution(0.2)(rng) ? 2 : 1;
            for (int c = 0; c < copies; ++c) {
                hits[p][l].push_back(static_cast<int64_t>(layers.size()));
                layers.push_back(l);
                particle.push_back(p);
            }
        }
    Edges e;
    std::uniform_real_distribution<float> high(0.6f, 1.0f), low(0.0f, 0.45f);
    std::uniform_int_distribution<int> other(0, n_particles - 1);
    for (int p = 0; p < n_particles; ++p)
        for (int l = 0; l + 1 < n_layers; ++l) {
            for (int64_t a : hits[p][l])
                for (int64_t b : hits[p][l + 1]) e.add(a, b, high(rng));
            e.add(hits[p][l][0], hits[other(rng)][l + 1][0], low(rng));
        }
    const int64_t n = static_cast<int64_t>(layers.size());
    const auto t = build_with_layers(config(0.5, 3, "walkthrough_doubles"), n, e, layers);
    EXPECT_EQ(t.n_candidates, n_particles);
    for (int p = 0; p < n_particles; ++p) {
        const int64_t label = t.labels[hits[p][0][0]];
        for (int l = 0; l < n_layers; ++l)
            for (int64_t h : hits[p][l]) ASSERT_EQ(t.labels[h], label) << "particle " << p;
    }
    // Walkthrough loses hits (or cuts tracks) at the doubles.
    const auto w = build_with_layers(config(0.5, 3, "walkthrough"), n, e, layers);
    EXPECT_GT(std::count(w.labels.begin(), w.labels.end(), U), 50);
}

TEST(TrackBuilding, LayersMustBeOnePerHit) {
    const Edges e = double_hit_track();
    EXPECT_NE(error_of([&] {
                  build_with_layers(config(0.5, 3, "walkthrough_doubles"), 5, e, {0, 1});
              }).find("2 layers for 5 hits"),
              std::string::npos);
}

TEST(TrackBuilding, TheStageBuildsAnEventFromItsHits) {
    EventHits ev;
    ev.event_id = 7;
    ev.hit_id = {10, 11, 12, 13, 14};
    const Edges e = double_hit_track();
    ev.senders = e.senders;
    ev.receivers = e.receivers;
    ev.scores = e.scores;
    ev.layer = kDoubleHitLayers;
    TrackBuilder builder(config(0.5, 3, "walkthrough_doubles"));
    TrackBuilding& stage = builder;
    EXPECT_EQ(stage.build(ev).labels, Labels(5, 0));
    ev.layer.pop_back();
    EXPECT_NE(error_of([&] { stage.build(ev); }).find("event 7: 4 layers for 5 hits"),
              std::string::npos);
}

// Note [Seed cut]: A = 0-1-2-3 holds one confident edge, B = 4-5-6-7 none,
// C = 8-9-10 only edges between the two cuts but one above the seed cut.
TEST(TrackBuilding, TheSeedCutKeepsOnlyCandidatesWithAConfidentEdge) {
    Edges e;
    e.add(0, 1, 0.9f);
    e.add(1, 2, 0.3f);
    e.add(2, 3, 0.25f);
    e.add(4, 5, 0.4f);
    e.add(5, 6, 0.45f);
    e.add(6, 7, 0.3f);
    e.add(8, 9, 0.3f);
    e.add(9, 10, 0.61f);
    for (const std::string method : track_building_methods()) {
        SCOPED_TRACE(method);
        TrackBuildingConfig c = config(0.2, 3, method);
        // Without a seed cut, all three chains are candidates.
        EXPECT_EQ(build(c, 11, e).labels, (Labels{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2}));
        c.seed_cut = 0.6;  // B has no edge above it and is dropped; A keeps its low edges
        EXPECT_EQ(build(c, 11, e).labels, (Labels{0, 0, 0, 0, U, U, U, U, 1, 1, 1}));
        EXPECT_EQ(build(c, 11, e).n_candidates, 2);
        c.seed_cut = 0.95;  // none is seeded
        EXPECT_EQ(build(c, 11, e).n_candidates, 0);
        c.seed_cut = 0.1;  // below the cut: no effect
        EXPECT_EQ(build(c, 11, e).n_candidates, 3);
    }
    TrackBuildingConfig bad = config(0.2, 3);
    bad.seed_cut = 1.5;
    EXPECT_NE(error_of([&] { TrackBuilder b(bad); }).find("seed cut 1.5 is outside [0, 1]"),
              std::string::npos);
}
