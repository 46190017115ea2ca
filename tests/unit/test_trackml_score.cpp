// The TrackML score and track rates of `hepgnn score` on small hand-made
// events whose answers are worked out in the comments. Weights are binary
// fractions (1/8, 5/32, ...), so every expected sum is exact.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "pipeline/track_building.hpp"
#include "pipeline/trackml_score.hpp"
#include "test_util.hpp"

using namespace hepgnn;
using namespace hepgnn::pipeline;
using hepgnn::testing_util::error_of;

namespace {

constexpr int64_t kNoise = 0;

// An event and a submission, built hit by hit.
struct HandEvent {
    data::TrackmlEvent event;
    std::vector<int64_t> track;  // submission track id of each hit

    /// A particle with this pT (GeV) and eta; returns its id.
    // phi 0 keeps pT = px exact, so pT on a bin edge stays in its bin.
    int64_t particle(double pt, double eta = 0.0, double phi = 0.0) {
        data::Particle p;
        p.particle_id = 1000 + static_cast<int64_t>(event.particles.size());
        p.px = static_cast<float>(pt * std::cos(phi));
        p.py = static_cast<float>(pt * std::sin(phi));
        p.pz = static_cast<float>(pt * std::sinh(eta));
        event.particles.push_back(p);
        return p.particle_id;
    }
    /// One hit of `pid` (kNoise: noise) with truth weight `w`, in track `t`.
    void hit(int64_t pid, float w, int64_t t) {
        data::Hit h;
        h.hit_id = static_cast<int64_t>(event.hits.size()) + 1;
        data::TruthHit th;
        th.hit_id = h.hit_id;
        th.particle_id = pid;
        th.weight = w;
        event.hits.push_back(h);
        event.truth.push_back(th);
        track.push_back(t);
    }
    /// `tracks.size()` hits of `pid`, each of weight `w`, in these tracks.
    void hits(int64_t pid, float w, std::vector<int64_t> tracks) {
        for (int64_t t : tracks) hit(pid, w, t);
    }
    EventScore score(const ScoreConfig& config = {}) const {
        return score_event(config, 1, event_truth(event, "hand-made event"), track);
    }
};

}  // namespace

TEST(TrackmlScore, APerfectSubmissionScoresTheSumOfWeightsOne) {
    HandEvent ev;
    const int64_t a = ev.particle(2.0), b = ev.particle(0.7), c = ev.particle(1.5);
    ev.hits(a, 0.125f, {1, 1, 1, 1});   // 4 x 1/8  = 1/2
    ev.hits(b, 0.0625f, {2, 2, 2, 2});  // 4 x 1/16 = 1/4
    ev.hits(c, 0.125f, {3, 3});         // 2 x 1/8  = 1/4
    ev.hits(kNoise, 0.0f, {100, 101});  // noise as singletons
    const auto s = ev.score();
    // Every particle matched with all its hits: 1/2 + 1/4 + 1/4 = 1 exactly.
    EXPECT_EQ(s.trackml.matched_weight, 1.0);
    EXPECT_EQ(s.trackml.total_weight, 1.0);
    EXPECT_EQ(s.trackml.score(), 1.0);
    EXPECT_EQ(s.trackml.n_tracks, 5);
    EXPECT_EQ(s.trackml.n_matched, 3);
    EXPECT_EQ(s.trackml.n_matched_hits, 10);
    // pT > 1: a (c has 2 < 3 hits); pT > 0.5: a and b. All reconstructed;
    // counted tracks (>= 3 hits): 1 and 2, neither fake nor duplicate.
    EXPECT_EQ(s.tracks.n_reconstructable, 1);
    EXPECT_EQ(s.tracks.n_reconstructed, 1);
    EXPECT_EQ(s.tracks_low.n_reconstructable, 2);
    EXPECT_EQ(s.tracks_low.n_reconstructed, 2);
    EXPECT_EQ(s.tracks.n_candidates, 2);
    EXPECT_EQ(s.tracks.n_fake, 0);
    EXPECT_EQ(s.tracks.n_duplicate, 0);
    EXPECT_EQ(s.tracks.n_hits, 12);
    EXPECT_EQ(s.tracks.n_noise_hits, 2);
}

TEST(TrackmlScore, NoiseHitsWeighNothingInATrackOrNot) {
    // a: 4 hits of 1/4. Track 1 = a's 4 hits + 2 noise: n(t) = 6, n(t,a) = 4;
    // 8 > 6 and 8 > 4: a matches, score 1. A third noise hit alone: nothing.
    HandEvent ev;
    const int64_t a = ev.particle(2.0);
    ev.hits(a, 0.25f, {1, 1, 1, 1});
    ev.hits(kNoise, 0.0f, {1, 1, 2});
    auto s = ev.score();
    EXPECT_EQ(s.trackml.score(), 1.0);
    EXPECT_EQ(s.trackml.n_matched, 1);
    EXPECT_EQ(s.trackml.n_matched_hits, 4);  // noise hits never count as matched
    EXPECT_EQ(s.tracks.n_fake, 0);
    EXPECT_EQ(s.tracks.n_candidates, 1);  // track 2 has 1 < 3 hits

    // 4 noise hits with a's 4: 8 > 8 is false, no majority: score 0, a fake.
    HandEvent diluted;
    const int64_t d = diluted.particle(2.0);
    diluted.hits(d, 0.25f, {1, 1, 1, 1});
    diluted.hits(kNoise, 0.0f, {1, 1, 1, 1});
    s = diluted.score();
    EXPECT_EQ(s.trackml.score(), 0.0);
    EXPECT_EQ(s.tracks.n_fake, 1);
    EXPECT_EQ(s.tracks.n_reconstructed, 0);

    // A track of noise only (3 hits) is a counted fake and scores nothing:
    // fake rate 1 of 2 tracks, the score stays 1.
    HandEvent pure;
    const int64_t p = pure.particle(2.0);
    pure.hits(p, 0.25f, {1, 1, 1, 1});
    pure.hits(kNoise, 0.0f, {2, 2, 2});
    s = pure.score();
    EXPECT_EQ(s.trackml.score(), 1.0);
    EXPECT_EQ(s.tracks.n_fake, 1);
    EXPECT_DOUBLE_EQ(s.tracks.fake_rate(), 0.5);
}

TEST(TrackmlScore, WeightOnNoiseCountsInTheTotalButIsNeverMatched) {
    // Not TrackML (noise weighs 0 there), but the denominator is every hit:
    // a perfect a (weight 1/2) over W = 1/2 + 2 x 1/4 = 1 scores 1/2.
    HandEvent ev;
    const int64_t a = ev.particle(2.0);
    ev.hits(a, 0.125f, {1, 1, 1, 1});
    ev.hits(kNoise, 0.25f, {2, 2});
    const auto s = ev.score();
    EXPECT_EQ(s.trackml.total_weight, 1.0);
    EXPECT_EQ(s.trackml.matched_weight, 0.5);
    EXPECT_EQ(s.trackml.score(), 0.5);
}

TEST(TrackmlScore, TheScoreIsOverTheEventsTotalWeight) {
    // 8 hits of 1/4, one of them without weight: W = 7/4, not TrackML's 1.
    // A perfect submission scores 7/4 / W = 1.
    HandEvent ev;
    const int64_t a = ev.particle(2.0), b = ev.particle(3.0);
    ev.hits(a, 0.25f, {1, 1, 1, 1});
    ev.hits(b, 0.25f, {2, 2, 2, 2});
    ev.event.truth[0].weight = 0.0f;
    auto s = ev.score();
    EXPECT_EQ(s.trackml.total_weight, 1.75);
    EXPECT_EQ(s.trackml.matched_weight, 1.75);
    EXPECT_EQ(s.trackml.score(), 1.0);
    // b's hits as singletons: only a (3 x 1/4) is found: 3/4 / W = 3/7.
    for (int i = 4; i < 8; ++i) ev.track[i] = 10 + i;
    s = ev.score();
    EXPECT_EQ(s.trackml.matched_weight, 0.75);
    EXPECT_DOUBLE_EQ(s.trackml.score(), 0.75 / 1.75);
}

TEST(TrackmlScore, DoubleHitsAreHitsOfTheirParticle) {
    // a has 5 hits; hits 3 and 4 are a double hit (two modules of one layer).
    // Weights 1/4, 1/4, 1/8, 1/8, 1/4 (sum 1). n(a) = 5 counts both.
    // A track of one hit per layer (drops hit 4): n(t,a) = 4, 8 > 4 and
    // 8 > 5: matches, score 1 - 1/8 = 7/8. Hit 4 alone scores nothing.
    HandEvent ev;
    const int64_t a = ev.particle(2.0);
    ev.hit(a, 0.25f, 1);
    ev.hit(a, 0.25f, 1);
    ev.hit(a, 0.125f, 1);
    ev.hit(a, 0.125f, 2);
    ev.hit(a, 0.25f, 1);
    auto s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.875);
    EXPECT_EQ(s.tracks.n_reconstructed, 1);

    // The double hit with one more (hits 3, 4, 5): 6 > 3 and 6 > 5 match:
    // 1/8 + 1/8 + 1/4 = 1/2. The other two (hits 1, 2): 4 > 5 fails.
    ev.track = {7, 7, 8, 8, 8};
    s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.5);
    EXPECT_EQ(s.trackml.n_matched, 1);

    // With both hits of the pair in the track, all 5 hits: score 1.
    ev.track = {9, 9, 9, 9, 9};
    EXPECT_EQ(ev.score().trackml.score(), 1.0);
}

TEST(TrackmlScore, ASplitTrackMatchesOnlyWhenAPieceHoldsMoreThanHalf) {
    // a: 8 hits of 1/8.
    HandEvent ev;
    const int64_t a = ev.particle(2.0);
    ev.hits(a, 0.125f, {1, 1, 1, 1, 2, 2, 2, 2});
    // 4 + 4: 2 x 4 > 8 fails for both pieces: score 0, a not reconstructed;
    // both pieces are pure a, so one is a duplicate (1 of 2 tracks).
    auto s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.0);
    EXPECT_EQ(s.trackml.n_matched, 0);
    EXPECT_EQ(s.tracks.n_reconstructed, 0);
    EXPECT_DOUBLE_EQ(s.tracks.track_efficiency(), 0.0);
    EXPECT_EQ(s.tracks.n_duplicate, 1);
    EXPECT_DOUBLE_EQ(s.tracks.duplicate_rate(), 0.5);
    EXPECT_EQ(s.tracks.n_fake, 0);

    // 5 + 3: the 5-hit piece matches (10 > 8): score 5/8; a reconstructed;
    // the 3-hit piece is a duplicate.
    ev.track = {1, 1, 1, 1, 1, 2, 2, 2};
    s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.625);
    EXPECT_EQ(s.trackml.n_matched, 1);
    EXPECT_DOUBLE_EQ(s.tracks.track_efficiency(), 1.0);
    EXPECT_EQ(s.tracks.n_duplicate, 1);

    // 5 + 2 + 1: only the 5-hit piece has >= 3 hits: no duplicate counted.
    ev.track = {1, 1, 1, 1, 1, 2, 2, 3};
    s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.625);
    EXPECT_EQ(s.tracks.n_duplicate, 0);
    EXPECT_EQ(s.tracks.n_candidates, 1);
}

TEST(TrackmlScore, TwoMergedTracksMatchAtMostTheirMajorityParticle) {
    // a: 4 hits of 5/32 (5/8 in all); b: 4 hits of 3/32 (3/8).
    HandEvent ev;
    const int64_t a = ev.particle(2.0), b = ev.particle(3.0);
    ev.hits(a, 0.15625f, {1, 1, 1, 1});
    ev.hits(b, 0.09375f, {1, 1, 1, 1});
    // All 8 in one track: 2 x 4 > 8 fails for both: no match, one fake.
    auto s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.0);
    EXPECT_EQ(s.tracks.n_fake, 1);
    EXPECT_EQ(s.tracks.n_reconstructed, 0);

    // a's 4 + 3 of b (b's 4th alone): n(t) = 7, n(t,a) = 4: 8 > 7, 8 > 4:
    // matches a only, score 5/8 (b's 3/32 x 3 in the track do not count).
    ev.track = {1, 1, 1, 1, 1, 1, 1, 2};
    s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.625);
    EXPECT_EQ(s.trackml.n_matched, 1);
    EXPECT_EQ(s.tracks.n_reconstructed, 1);
    EXPECT_DOUBLE_EQ(s.tracks.track_efficiency(), 0.5);
    EXPECT_EQ(s.tracks.n_fake, 0);

    // b's 4 + 3 of a: matches b, score 3/8: the majority's weight counts.
    ev.track = {1, 1, 1, 2, 1, 1, 1, 1};
    EXPECT_EQ(ev.score().trackml.score(), 0.375);
}

TEST(TrackmlScore, TheScoreCountsTracksOfAnySizeTheRatesOnlyMinHits) {
    // a: 3 hits of weights 1/4, 1/4, 1/2. A 2-hit track of hits 1 and 3:
    // 4 > 2 and 4 > 3: matches, score 3/4. It has 2 < min_hits = 3 hits, so
    // the rates do not count it: a is reconstructable but not reconstructed.
    HandEvent ev;
    const int64_t a = ev.particle(2.0);
    ev.hit(a, 0.25f, 1);
    ev.hit(a, 0.25f, 2);
    ev.hit(a, 0.5f, 1);
    auto s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.75);
    EXPECT_EQ(s.tracks.n_reconstructable, 1);
    EXPECT_EQ(s.tracks.n_reconstructed, 0);
    EXPECT_EQ(s.tracks.n_candidates, 0);
    // With min_hits 2 it is counted and reconstructs a.
    ScoreConfig two;
    two.min_hits = 2;
    s = ev.score(two);
    EXPECT_EQ(s.trackml.score(), 0.75);
    EXPECT_EQ(s.tracks.n_reconstructed, 1);
    EXPECT_EQ(s.tracks.n_candidates, 1);
}

TEST(TrackmlScore, EfficiencyFakeAndDuplicateRatesAtBothPtThresholds) {
    HandEvent ev;
    const int64_t p03 = ev.particle(0.3, 0.1), p07 = ev.particle(0.7, -0.6);
    const int64_t p15 = ev.particle(1.5, 1.2), p30 = ev.particle(3.0, -2.4);
    const int64_t p20 = ev.particle(2.0, 3.7), few = ev.particle(1.5, 0.2);
    const float w = 1.0f / 32;
    ev.hits(p03, w, {1, 1, 1, 1});        // found, but pT 0.3 is below both
    ev.hits(p07, w, {2, 2, 2, 2});        // found: counts at pT > 0.5 only
    ev.hits(p15, w, {3, 3, 3, 3});        // found
    ev.hits(p30, w, {4, 4, 5, 5});        // split 2 + 2: lost, pieces < 3 hits
    ev.hits(p20, w, {6, 6, 6, 7, 7, 7});  // split 3 + 3: lost, one duplicate
    ev.hits(few, w, {8, 8});              // 2 hits: never reconstructable
    ev.hits(kNoise, 0.0f, {9, 9, 9});     // a fake
    const auto s = ev.score();
    // pT > 1: p15, p30, p20 reconstructable; p15 reconstructed: 1/3.
    EXPECT_EQ(s.tracks.n_reconstructable, 3);
    EXPECT_EQ(s.tracks.n_reconstructed, 1);
    EXPECT_DOUBLE_EQ(s.tracks.track_efficiency(), 1.0 / 3.0);
    // pT > 0.5: also p07: 2/4.
    EXPECT_EQ(s.tracks_low.n_reconstructable, 4);
    EXPECT_EQ(s.tracks_low.n_reconstructed, 2);
    EXPECT_DOUBLE_EQ(s.tracks_low.track_efficiency(), 0.5);
    // Counted tracks (>= 3 hits): 1, 2, 3, 6, 7, 9 = 6; fake: 9; duplicate:
    // one of 6 and 7. Per track, whatever the pT: the same in both.
    EXPECT_EQ(s.tracks.n_candidates, 6);
    EXPECT_EQ(s.tracks.n_fake, 1);
    EXPECT_EQ(s.tracks.n_duplicate, 1);
    EXPECT_DOUBLE_EQ(s.tracks.fake_rate(), 1.0 / 6.0);
    EXPECT_DOUBLE_EQ(s.tracks.duplicate_rate(), 1.0 / 6.0);
    EXPECT_DOUBLE_EQ(s.tracks_low.fake_rate(), 1.0 / 6.0);
    EXPECT_DOUBLE_EQ(s.tracks_low.duplicate_rate(), 1.0 / 6.0);
    // Score: p03, p07, p15 (4 hits each) and few (2 of 2: 4 > 2) match:
    // 14 x 1/32 over W = 24/32.
    EXPECT_EQ(s.trackml.n_matched, 4);
    EXPECT_DOUBLE_EQ(s.trackml.score(), 14.0 / 24.0);

    // eta histogram (pT > 1; bins of 0.5 over [-4, 4]): p15 at 1.2 (bin 10,
    // found), p30 at -2.4 (bin 3), p20 at 3.7 (bin 15).
    const auto& eta = s.tracks.efficiency_vs_eta;
    ASSERT_EQ(eta.n_bins(), 16u);
    EXPECT_EQ(eta.reconstructable[10], 1);
    EXPECT_EQ(eta.reconstructed[10], 1);
    EXPECT_EQ(eta.reconstructable[3], 1);
    EXPECT_EQ(eta.reconstructed[3], 0);
    EXPECT_EQ(eta.reconstructable[15], 1);
    // pT > 0.5 adds p07 at -0.6 (bin 6, found).
    EXPECT_EQ(s.tracks_low.efficiency_vs_eta.reconstructed[6], 1);
    EXPECT_EQ(eta.reconstructable[6], 0);
    // pT histogram: every particle with >= 3 hits, no pT cut; bins
    // {0,0.5,1,1.5,2,3,5,10,inf}: 0.3 -> 0, 0.7 -> 1, 1.5 -> 3, 2 -> 4, 3 -> 5.
    const auto& pt = s.tracks.efficiency_vs_pt;
    EXPECT_EQ(pt.reconstructed[0], 1);
    EXPECT_EQ(pt.reconstructed[1], 1);
    EXPECT_EQ(pt.reconstructable[3], 1);  // p15 (few has 2 hits)
    EXPECT_EQ(pt.reconstructed[3], 1);
    EXPECT_EQ(pt.reconstructable[4], 1);
    EXPECT_EQ(pt.reconstructed[4], 0);
    EXPECT_EQ(pt.reconstructable[5], 1);
}

TEST(TrackmlScore, TrackIdZeroIsATrackOrUnassignedAsConfigured) {
    // a (4 x 1/8) in track 7; b (4 x 1/8) and 3 noise hits in track 0.
    HandEvent ev;
    const int64_t a = ev.particle(2.0), b = ev.particle(2.0);
    ev.hits(a, 0.125f, {7, 7, 7, 7});
    ev.hits(b, 0.125f, {0, 0, 0, 0});
    ev.hits(kNoise, 0.0f, {0, 0, 0});
    // As in TrackML, track 0 is a track: n(0) = 7, n(0,b) = 4: 8 > 7 and
    // 8 > 4, b matches: score 1.
    auto s = ev.score();
    EXPECT_EQ(s.trackml.score(), 1.0);
    EXPECT_EQ(s.trackml.n_tracks, 2);
    EXPECT_EQ(s.tracks.n_reconstructed, 2);
    // Track 0 as unassigned: only a is found, score 1/2; one track.
    ScoreConfig unassigned;
    unassigned.zero_is_unassigned = true;
    s = ev.score(unassigned);
    EXPECT_EQ(s.trackml.score(), 0.5);
    EXPECT_EQ(s.trackml.n_tracks, 1);
    EXPECT_EQ(s.tracks.n_candidates, 1);
    EXPECT_EQ(s.tracks.n_reconstructed, 1);

    // Everything in track 0 (a TrackML track): no particle holds more than
    // half of 11 hits, so score 0 and one fake.
    ev.track.assign(ev.track.size(), 0);
    s = ev.score();
    EXPECT_EQ(s.trackml.score(), 0.0);
    EXPECT_EQ(s.tracks.n_fake, 1);
    s = ev.score(unassigned);
    EXPECT_EQ(s.trackml.score(), 0.0);
    EXPECT_EQ(s.tracks.n_candidates, 0);
    EXPECT_EQ(s.tracks.n_fake, 0);
}

TEST(TrackmlScore, DenseLabelsNumberIdsInAscendingOrder) {
    const std::vector<int64_t> ids = {5, -3, 5, 0, 9};
    EXPECT_EQ(dense_track_labels(ids, false), (std::vector<int64_t>{2, 0, 2, 1, 3}));
    EXPECT_EQ(dense_track_labels(ids, true),
              (std::vector<int64_t>{1, 0, 1, pipeline::kUnassigned, 2}));
}

TEST(TrackmlScore, TruthTakesPtAndEtaFromTheParticlesTable) {
    HandEvent ev;
    const int64_t a = ev.particle(2.5, -1.7, 2.0);
    ev.hits(a, 0.5f, {1, 1});
    ev.hit(kNoise, 0.0f, 2);
    const auto t = event_truth(ev.event, "x");
    EXPECT_NEAR(t.pt[0], 2.5, 1e-6);
    EXPECT_NEAR(t.eta[1], -1.7, 1e-5);
    EXPECT_EQ(t.pt[2], 0.0f);
    EXPECT_EQ(t.particle_id, (std::vector<int64_t>{a, a, 0}));
    EXPECT_EQ(t.weight, (std::vector<float>{0.5f, 0.5f, 0.0f}));
}

TEST(TrackmlScore, BadTruthIsAnErrorNamingTheHit) {
    HandEvent ev;
    const int64_t a = ev.particle(2.0);
    ev.hits(a, 0.5f, {1, 1});
    auto bad = ev.event;
    bad.truth[1].particle_id = 77;
    EXPECT_NE(error_of([&] {
                  event_truth(bad, "ev.csv");
              }).find("hit_id 2 belongs to particle_id 77, which the particles table does not"),
              std::string::npos);
    bad = ev.event;
    bad.truth[0].weight = -0.5f;
    EXPECT_NE(error_of([&] {
                  event_truth(bad, "ev.csv");
              }).find("(ev.csv): hit_id 1 has truth weight -0.5"),
              std::string::npos);
    bad = ev.event;
    bad.truth[0].weight = bad.truth[1].weight = 0.0f;
    EXPECT_NE(error_of([&] { event_truth(bad, "ev.csv"); }).find("sum to 0"), std::string::npos);
    EXPECT_NE(error_of([&] {
                  score_event({}, 1, event_truth(ev.event, "x"), {1});
              }).find("1 track ids for 2 truth hits"),
              std::string::npos);
}

// Against a direct transcription of the definition (the plurality particle
// of each track, as trackml-library finds it, then the two purity cuts) on
// random events and random edits of a perfect submission.
TEST(TrackmlScore, AgreesWithTheDefinitionOnRandomSubmissions) {
    std::mt19937 rng(7);
    for (int trial = 0; trial < 40; ++trial) {
        HandEvent ev;
        std::uniform_int_distribution<int> n_hits(1, 9);
        std::uniform_real_distribution<float> weight(0.0f, 1.0f);
        for (int p = 0; p < 30; ++p) {
            const int64_t pid = ev.particle(0.3 + 0.1 * p);
            const int n = n_hits(rng);
            for (int h = 0; h < n; ++h) ev.hit(pid, n < 4 ? 0.0f : weight(rng), pid);
        }
        for (int h = 0; h < 20; ++h) ev.hit(kNoise, 0.0f, 5000 + h);
        // Edits: move hits to other tracks (splits, merges, noise mixed in).
        std::uniform_int_distribution<size_t> any(0, ev.track.size() - 1);
        const int edits = trial * 3;
        for (int k = 0; k < edits; ++k) ev.track[any(rng)] = ev.track[any(rng)] + (k % 3 == 0);

        std::map<int64_t, std::map<int64_t, std::pair<int, double>>> by_track;  // t -> p -> n, w
        std::map<int64_t, int> particle_hits, track_hits;
        double total = 0;
        for (size_t i = 0; i < ev.track.size(); ++i) {
            const auto& th = ev.event.truth[i];
            auto& cell = by_track[ev.track[i]][th.particle_id];
            ++cell.first;
            cell.second += th.weight;
            ++particle_hits[th.particle_id];
            ++track_hits[ev.track[i]];
            total += th.weight;
        }
        double expected = 0;
        for (const auto& [t, parts] : by_track) {
            int64_t best = -1;
            int best_n = 0;
            for (const auto& [p, nw] : parts)
                if (nw.first > best_n) best = p, best_n = nw.first;
            if (2 * best_n > track_hits[t] && 2 * best_n > particle_hits[best])
                expected += parts.at(best).second;  // noise weighs 0
        }
        const auto s = ev.score();
        EXPECT_NEAR(s.trackml.score(), expected / total, 1e-12) << "trial " << trial;
        EXPECT_NEAR(s.trackml.total_weight, total, 1e-12);
    }
}

TEST(TrackmlScore, TheBreakdownPutsEachParticlesWeightWhereItWent) {
    // Note [Score breakdown], one particle per outcome and pT bin; weights
    // sum to 1. Track 0 is unassigned.
    HandEvent ev;
    const int64_t a = ev.particle(2.0), b = ev.particle(0.25), c = ev.particle(0.1),
                  d = ev.particle(0.4), e = ev.particle(5.0);
    ev.hits(a, 0.0625f, {1, 1, 1, 1, 1, 1, 2, 2});  // matched 6/16, incomplete 2/16
    ev.hits(b, 0.03125f, {3, 3, 4, 4});             // no piece holds more than half: split
    ev.hits(c, 0.03125f, {0, 0, 0, 1});             // 3 of 4 hits in no track: unassigned
    ev.hits(d, 0.03125f, {5, 5, 5, 0});             // 3 of 4 in track 5, whose majority is e
    ev.hits(e, 0.015625f, {5, 5, 5, 5});            // 4 of track 5's 7: matched
    ev.hits(kNoise, 0.03125f, {0, 6});
    ScoreConfig config;
    config.zero_is_unassigned = true;
    const auto s = ev.score(config);
    EXPECT_EQ(s.trackml.score(), 0.4375);
    const WeightBreakdown& w = s.weights;
    ASSERT_EQ(w.pt_edges, config.weight_pt_bins);
    ASSERT_EQ(w.bins.size(), 6u);  // 0, 0.2, 0.3, 0.5, 1, 3, inf
    EXPECT_EQ(w.noise, 0.0625);
    const auto expect_bin = [&](size_t bin, double total, double matched, double incomplete,
                                double unassigned, double merged, double split) {
        SCOPED_TRACE(bin);
        EXPECT_EQ(w.bins[bin].total, total);
        EXPECT_EQ(w.bins[bin].matched, matched);
        EXPECT_EQ(w.bins[bin].incomplete, incomplete);
        EXPECT_EQ(w.bins[bin].unassigned, unassigned);
        EXPECT_EQ(w.bins[bin].merged, merged);
        EXPECT_EQ(w.bins[bin].split, split);
    };
    expect_bin(0, 0.125, 0, 0, 0.125, 0, 0);  // c
    expect_bin(1, 0.125, 0, 0, 0, 0, 0.125);  // b
    expect_bin(2, 0.125, 0, 0, 0, 0.125, 0);  // d
    expect_bin(3, 0, 0, 0, 0, 0, 0);
    expect_bin(4, 0.5, 0.375, 0.125, 0, 0, 0);  // a
    expect_bin(5, 0.0625, 0.0625, 0, 0, 0, 0);  // e
    double matched = 0;
    for (const auto& bin : w.bins) matched += bin.matched;
    EXPECT_EQ(matched, s.trackml.matched_weight);

    // Breakdowns add over events and survive their allreduce form.
    WeightBreakdown sum(config.weight_pt_bins);
    sum.merge(w);
    sum.merge(w);
    WeightBreakdown copy(config.weight_pt_bins);
    copy.assign_values(sum.to_values());
    EXPECT_EQ(copy.noise, 0.125);
    EXPECT_EQ(copy.bins[4].matched, 0.75);
    EXPECT_EQ(copy.bins[2].merged, 0.25);
    EXPECT_NE(error_of([&] {
                  sum.merge(WeightBreakdown({0.0, 1.0}));
              }).find("other pT bins"),
              std::string::npos);
    EXPECT_NE(error_of([] {
                  WeightBreakdown({1.0, 1.0});
              }).find("strictly ascending"),
              std::string::npos);
}
