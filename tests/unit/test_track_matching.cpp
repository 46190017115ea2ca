#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "core/error.hpp"
#include "pipeline/track_building.hpp"
#include "pipeline/track_matching.hpp"
#include "test_util.hpp"

using namespace hepgnn::pipeline;

namespace {

using hepgnn::testing_util::error_of;

constexpr int64_t U = kUnassigned;

// Hits of one event, built particle by particle.
struct Event {
    std::vector<int64_t> labels, particle_id;
    std::vector<float> pt, eta;
    // `n` hits of particle `pid` (0: noise) with the given candidate labels
    // (one per hit, or a single label for all).
    void add(int64_t pid, float p_t, float p_eta, std::vector<int64_t> hit_labels) {
        for (int64_t l : hit_labels) {
            labels.push_back(l);
            particle_id.push_back(pid);
            pt.push_back(pid ? p_t : 0.0f);
            eta.push_back(pid ? p_eta : 0.0f);
        }
    }
    TrackMetrics match(const TrackMatchingConfig& c = {}) const {
        return match_tracks(c, labels, particle_id, pt, eta);
    }
};

size_t pt_bin(double pt) {  // bins {0,0.5,1,1.5,2,3,5,10,inf}
    const std::vector<double> e = TrackMatchingConfig{}.pt_bins;
    return static_cast<size_t>(std::upper_bound(e.begin(), e.end(), pt) - e.begin() - 1);
}
size_t eta_bin(double eta) {
    return static_cast<size_t>((eta + 4.0) / 0.5);
}

int64_t sum(const std::vector<int64_t>& v) {
    int64_t s = 0;
    for (int64_t x : v) s += x;
    return s;
}

}  // namespace

TEST(TrackMatching, TwoCleanTracksArePerfect) {
    Event ev;
    ev.add(11, 2.0f, 0.3f, {0, 0, 0, 0});
    ev.add(22, 1.2f, -1.2f, {1, 1, 1, 1});
    ev.add(0, 0, 0, {U, U});  // noise, unassigned
    const auto m = ev.match();
    EXPECT_EQ(m.n_hits, 10);
    EXPECT_EQ(m.n_noise_hits, 2);
    EXPECT_EQ(m.n_reconstructable, 2);
    EXPECT_EQ(m.n_reconstructed, 2);
    EXPECT_EQ(m.n_candidates, 2);
    EXPECT_EQ(m.n_matched_candidates, 2);
    EXPECT_EQ(m.n_double_matched, 2);
    EXPECT_EQ(m.n_fake, 0);
    EXPECT_EQ(m.n_duplicate, 0);
    EXPECT_EQ(m.n_matched_hits, 8);
    EXPECT_DOUBLE_EQ(m.track_efficiency(), 1.0);
    EXPECT_DOUBLE_EQ(m.fake_rate(), 0.0);
    EXPECT_DOUBLE_EQ(m.duplicate_rate(), 0.0);
    EXPECT_DOUBLE_EQ(m.unweighted_score(), 1.0);  // noise has no weight (TrackML)
    // Histograms: pT bins [2,3) and [1,1.5); eta bins [0,0.5) and [-1.5,-1).
    EXPECT_EQ(m.efficiency_vs_pt.reconstructable[pt_bin(2.0)], 1);
    EXPECT_EQ(m.efficiency_vs_pt.reconstructable[pt_bin(1.2)], 1);
    EXPECT_EQ(m.efficiency_vs_pt.reconstructed[pt_bin(2.0)], 1);
    EXPECT_EQ(sum(m.efficiency_vs_pt.reconstructable), 2);
    EXPECT_EQ(m.efficiency_vs_eta.reconstructable[eta_bin(0.3)], 1);
    EXPECT_EQ(m.efficiency_vs_eta.reconstructed[eta_bin(-1.2)], 1);
    EXPECT_EQ(eta_bin(-1.2), 5u);
    EXPECT_EQ(sum(m.efficiency_vs_eta.reconstructed), 2);
}

TEST(TrackMatching, AnEvenlyMergedTrackIsAFakeAndLosesBothParticles) {
    Event ev;
    ev.add(11, 2.0f, 0.1f, {0, 0, 0, 0});
    ev.add(22, 3.0f, 0.2f, {0, 0, 0, 0});
    const auto m = ev.match();
    EXPECT_EQ(m.n_candidates, 1);
    EXPECT_EQ(m.n_matched_candidates, 0);
    EXPECT_EQ(m.n_fake, 1);
    EXPECT_EQ(m.n_reconstructable, 2);
    EXPECT_EQ(m.n_reconstructed, 0);
    EXPECT_DOUBLE_EQ(m.fake_rate(), 1.0);
    EXPECT_DOUBLE_EQ(m.track_efficiency(), 0.0);
    EXPECT_DOUBLE_EQ(m.unweighted_score(), 0.0);
}

TEST(TrackMatching, AnUnevenlyMergedTrackMatchesItsMajorityParticleOnly) {
    Event ev;
    ev.add(11, 2.0f, 0.1f, {0, 0, 0, 0, 0});  // 5 of 8 hits: majority, all of 11
    ev.add(22, 3.0f, 0.2f, {0, 0, 0});
    const auto m = ev.match();
    EXPECT_EQ(m.n_candidates, 1);
    EXPECT_EQ(m.n_matched_candidates, 1);
    EXPECT_EQ(m.n_fake, 0);
    EXPECT_EQ(m.n_reconstructed, 1);
    EXPECT_DOUBLE_EQ(m.track_efficiency(), 0.5);
    EXPECT_EQ(m.n_matched_hits, 5);
    EXPECT_DOUBLE_EQ(m.unweighted_score(), 5.0 / 8.0);
}

TEST(TrackMatching, ASplitTrackGivesADuplicate) {
    Event ev;
    ev.add(11, 2.0f, 0.1f, {0, 0, 0, 0, 0, 1, 1, 1});  // 5 + 3 of 8 hits
    auto m = ev.match();
    EXPECT_EQ(m.n_candidates, 2);
    EXPECT_EQ(m.n_matched_candidates, 2);
    EXPECT_EQ(m.n_double_matched, 1);
    EXPECT_EQ(m.n_fake, 0);
    EXPECT_EQ(m.n_duplicate, 1);
    EXPECT_EQ(m.n_reconstructed, 1);
    EXPECT_DOUBLE_EQ(m.duplicate_rate(), 0.5);
    EXPECT_DOUBLE_EQ(m.track_efficiency(), 1.0);
    EXPECT_DOUBLE_EQ(m.unweighted_score(), 5.0 / 8.0);

    // 4 + 4: neither piece holds more than half, so not reconstructed.
    Event even;
    even.add(11, 2.0f, 0.1f, {0, 0, 0, 0, 1, 1, 1, 1});
    m = even.match();
    EXPECT_EQ(m.n_duplicate, 1);
    EXPECT_EQ(m.n_fake, 0);
    EXPECT_EQ(m.n_double_matched, 0);
    EXPECT_EQ(m.n_reconstructed, 0);
    EXPECT_DOUBLE_EQ(m.track_efficiency(), 0.0);
    EXPECT_DOUBLE_EQ(m.unweighted_score(), 0.0);
}

TEST(TrackMatching, NoiseHitsDiluteCandidatesButAreNeverAParticle) {
    Event ev;
    ev.add(11, 2.0f, 0.1f, {0, 0, 0});
    ev.add(0, 0, 0, {0, 0});     // 3 of 5 hits from 11: still its majority
    ev.add(0, 0, 0, {1, 1, 1});  // a candidate of noise only: fake
    ev.add(22, 2.0f, 0.1f, {2, 2, 2});
    ev.add(0, 0, 0, {2, 2, 2});  // 3 of 6 is not more than half: fake
    const auto m = ev.match();
    EXPECT_EQ(m.n_noise_hits, 8);
    EXPECT_EQ(m.n_candidates, 3);
    EXPECT_EQ(m.n_matched_candidates, 1);
    EXPECT_EQ(m.n_fake, 2);
    EXPECT_EQ(m.n_reconstructed, 1);
    EXPECT_EQ(m.n_reconstructable, 2);
    EXPECT_NEAR(m.fake_rate(), 2.0 / 3.0, 1e-12);
    EXPECT_DOUBLE_EQ(m.unweighted_score(), 3.0 / 6.0);
}

TEST(TrackMatching, SmallCandidatesAndShortParticlesAreNotCounted) {
    Event ev;
    ev.add(11, 2.0f, 0.1f, {0, 0});     // 2-hit particle in a 2-hit candidate
    ev.add(22, 2.0f, 0.1f, {1, 1, U});  // 3-hit particle, candidate of 2 hits
    const auto m = ev.match();
    EXPECT_EQ(m.n_candidates, 0);
    EXPECT_EQ(m.n_reconstructable, 1);  // only 22 has 3 hits
    EXPECT_EQ(m.n_reconstructed, 0);
    EXPECT_EQ(sum(m.efficiency_vs_pt.reconstructable), 1);
    EXPECT_DOUBLE_EQ(m.fake_rate(), 0.0);  // no candidates: 0, not NaN

    TrackMatchingConfig two;
    two.min_hits = 2;
    const auto m2 = ev.match(two);
    EXPECT_EQ(m2.n_candidates, 2);
    EXPECT_EQ(m2.n_reconstructable, 2);
    EXPECT_EQ(m2.n_reconstructed, 2);
}

TEST(TrackMatching, PtHistogramShowsTheTurnOnAndEtaHistogramUsesThePtCut) {
    Event ev;
    int64_t label = 0;
    // (pt, eta, found)
    const std::vector<std::tuple<float, float, bool>> particles = {
        {0.3f, 0.1f, false}, {0.8f, 0.6f, true},   {1.2f, -0.6f, true}, {1.7f, 2.2f, false},
        {5.5f, 3.9f, true},  {20.0f, -3.9f, true}, {2.5f, 4.5f, true},  // eta beyond the eta bins:
                                                                        // counted, not histogrammed
    };
    int64_t pid = 1;
    for (const auto& [p_t, p_eta, found] : particles) {
        ev.add(pid++, p_t, p_eta,
               found ? std::vector<int64_t>(4, label++) : std::vector<int64_t>(4, U));
    }
    const auto m = ev.match();
    EXPECT_EQ(m.n_reconstructable, 5);  // pt > 1
    EXPECT_EQ(m.n_reconstructed, 4);
    const auto& h = m.efficiency_vs_pt;
    ASSERT_EQ(h.n_bins(), 8u);
    EXPECT_EQ(h.reconstructable, (std::vector<int64_t>{1, 1, 1, 1, 1, 0, 1, 1}));
    EXPECT_EQ(h.reconstructed, (std::vector<int64_t>{0, 1, 1, 0, 1, 0, 1, 1}));
    EXPECT_DOUBLE_EQ(h.efficiency(0), 0.0);
    EXPECT_DOUBLE_EQ(h.efficiency(1), 1.0);
    EXPECT_DOUBLE_EQ(h.efficiency(5), 0.0);  // empty bin
    const auto& e = m.efficiency_vs_eta;
    ASSERT_EQ(e.n_bins(), 16u);
    EXPECT_EQ(sum(e.reconstructable), 4);  // pt > 1 and |eta| < 4
    EXPECT_EQ(sum(e.reconstructed), 3);
    EXPECT_EQ(e.reconstructable[eta_bin(-0.6)], 1);
    EXPECT_EQ(e.reconstructable[eta_bin(2.2)], 1);
    EXPECT_EQ(e.reconstructed[eta_bin(2.2)], 0);
    EXPECT_EQ(e.reconstructed[15], 1);  // 3.9
    EXPECT_EQ(e.reconstructed[0], 1);   // -3.9
}

TEST(TrackMatching, TrackmlScoreIsOneWhenPerfectAndLowerOtherwise) {
    Event perfect, missing_hit, merged;
    for (int64_t p = 1; p <= 3; ++p) {
        perfect.add(p, 2.0f, 0.0f, std::vector<int64_t>(5, p - 1));
        missing_hit.add(
            p, 2.0f, 0.0f,
            p == 2 ? std::vector<int64_t>{1, 1, 1, 1, U} : std::vector<int64_t>(5, p - 1));
        merged.add(p, 2.0f, 0.0f, std::vector<int64_t>(5, p == 3 ? 0 : p - 1));
    }
    for (Event* ev : {&perfect, &missing_hit, &merged}) ev->add(0, 0, 0, {U, U, U});
    EXPECT_DOUBLE_EQ(perfect.match().unweighted_score(), 1.0);
    EXPECT_DOUBLE_EQ(missing_hit.match().unweighted_score(), 14.0 / 15.0);
    // Particles 1 and 3 share candidate 0 (5 + 5 hits): no majority; only 2 counts.
    EXPECT_DOUBLE_EQ(merged.match().unweighted_score(), 5.0 / 15.0);
    EXPECT_LT(merged.match().unweighted_score(), missing_hit.match().unweighted_score());
}

TEST(TrackMatching, BuildingThenMatchingAnEventEndToEnd) {
    // Three particles on 5 layers (hit = 3 * layer + particle) and a junction
    // edge from particle 0 to particle 1 that merges them in components.
    std::vector<int64_t> s, r, pid(15);
    std::vector<float> sc, pt(15, 2.0f), eta(15, 0.4f);
    for (int l = 0; l < 4; ++l)
        for (int p = 0; p < 3; ++p) {
            s.push_back(3 * l + p);
            r.push_back(3 * l + 3 + p);
            sc.push_back(0.95f);  // above the default seed cut (Note [Seed cut])
        }
    for (int i = 0; i < 15; ++i) pid[i] = 100 + i % 3;
    s.push_back(3);  // layer 1 particle 0 -> layer 2 particle 1
    r.push_back(7);
    sc.push_back(0.6f);
    TrackBuildingConfig components, walkthrough;
    components.method = "components";
    walkthrough.method = "walkthrough";
    const auto a = build_track_candidates(components, 15, s, r, sc);
    const auto b = build_track_candidates(walkthrough, 15, s, r, sc);
    const auto ma = match_tracks({}, a.labels, pid, pt, eta);
    const auto mb = match_tracks({}, b.labels, pid, pt, eta);
    EXPECT_EQ(ma.n_candidates, 2);
    EXPECT_EQ(ma.n_fake, 1);
    EXPECT_DOUBLE_EQ(ma.track_efficiency(), 1.0 / 3.0);
    EXPECT_EQ(mb.n_candidates, 3);
    EXPECT_EQ(mb.n_fake, 0);
    EXPECT_DOUBLE_EQ(mb.track_efficiency(), 1.0);
    EXPECT_DOUBLE_EQ(mb.unweighted_score(), 1.0);
}

TEST(TrackMatching, MetricsMergeAndRoundTripThroughCounts) {
    Event a, b;
    a.add(11, 2.0f, 0.3f, {0, 0, 0, 0});
    a.add(12, 0.7f, 1.3f, {1, 1, 1, 2, 2});
    b.add(21, 1.6f, -2.0f, {0, 0, 0, 1, 1, 1, 1, 1});
    b.add(0, 0, 0, {2, 2, 2, U});
    const auto ma = a.match(), mb = b.match();
    TrackMetrics total = ma;
    total.merge(mb);
    EXPECT_EQ(total.n_hits, 21);
    EXPECT_EQ(total.n_candidates, ma.n_candidates + mb.n_candidates);
    EXPECT_EQ(total.n_candidates, 5);
    EXPECT_EQ(total.n_fake, 1);
    EXPECT_EQ(total.n_duplicate, 1);
    EXPECT_EQ(total.n_reconstructable, 2);
    EXPECT_EQ(total.n_reconstructed, 2);
    EXPECT_DOUBLE_EQ(total.fake_rate(), 0.2);
    EXPECT_EQ(sum(total.efficiency_vs_pt.reconstructable), 3);
    const auto counts = total.to_counts();
    EXPECT_EQ(counts.size(), 10u + 2 * 8 + 2 * 16);
    EXPECT_EQ(counts[0], 21);  // n_hits first
    TrackMetrics rebuilt;
    rebuilt.assign_counts(counts);
    EXPECT_EQ(rebuilt.to_counts(), counts);
    EXPECT_DOUBLE_EQ(rebuilt.unweighted_score(), total.unweighted_score());
    // An allreduce is an element-wise sum: the same as merge().
    auto summed = ma.to_counts();
    const auto cb = mb.to_counts();
    for (size_t i = 0; i < summed.size(); ++i) summed[i] += cb[i];
    EXPECT_EQ(summed, counts);

    EXPECT_NE(error_of([&] {
                  rebuilt.assign_counts({1, 2, 3});
              }).find("3 counts given, but these metrics have 58"),
              std::string::npos);
    TrackMatchingConfig other_bins;
    other_bins.pt_bins = {0.0, 1.0, 2.0};
    EXPECT_NE(error_of([&] {
                  rebuilt.merge(TrackMetrics(other_bins));
              }).find("cannot merge pT histograms with different bins"),
              std::string::npos);
}

TEST(TrackMatching, InvalidInputIsRejectedWithAClearMessage) {
    Event ev;
    ev.add(11, 2.0f, 0.3f, {0, 0, 0, 0});
    EXPECT_NE(error_of([&] {
                  match_tracks({}, ev.labels, ev.particle_id, ev.pt, {});
              }).find("sizes mismatch: 4 labels, 4 particle ids, 4 pt, 0 eta"),
              std::string::npos);
    auto bad = ev;
    bad.labels[2] = -2;
    EXPECT_NE(error_of([&] { bad.match(); }).find("hit 2 has label -2"), std::string::npos);
    bad.labels[2] = 4;
    EXPECT_NE(error_of([&] { bad.match(); }).find("hit 2 has label 4"), std::string::npos);
    TrackMatchingConfig c;
    c.eta_bins = {1.0, 0.0};
    EXPECT_NE(error_of([&] { ev.match(c); }).find("bin edges must ascend"), std::string::npos);
}

TEST(TrackSubmission, RowsNumberCandidatesFromOneAndUnassignedAsZero) {
    const auto rows = make_submission({101, 102, 103, 104}, {1, U, 0, 1});
    EXPECT_EQ(rows, (std::vector<SubmissionRow>{{101, 2}, {102, 0}, {103, 1}, {104, 2}}));
    EXPECT_NE(error_of([] {
                  make_submission({1, 2}, {0});
              }).find("sizes mismatch: 2 hit ids, 1 labels"),
              std::string::npos);
}

TEST(TrackSubmission, CsvIsWrittenAtomicallyWithAHeader) {
    hepgnn::testing_util::TempDir dir;
    const auto path = dir / "sub" / "event000001000-submission.csv";
    write_submission_csv(path, 1000, make_submission({7, 8, 9}, {0, 0, U}));
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_EQ(text.str(), "event_id,hit_id,track_id\n1000,7,1\n1000,8,1\n1000,9,0\n");
    int files = 0;
    for (const auto& f : std::filesystem::directory_iterator(path.parent_path())) {
        (void)f;
        ++files;
    }
    EXPECT_EQ(files, 1);  // no temporary left behind
    // Overwrites in place.
    write_submission_csv(path, 1000, {});
    std::ifstream again(path);
    std::stringstream text2;
    text2 << again.rdbuf();
    EXPECT_EQ(text2.str(), "event_id,hit_id,track_id\n");
    // A folder where the file should go cannot be replaced: a clear error.
    std::filesystem::create_directories(dir / "taken");
    EXPECT_NE(error_of([&] {
                  write_submission_csv(dir / "taken", 1, {});
              }).find("cannot write submission '" + (dir / "taken").string() + "'"),
              std::string::npos);
}
