// Track matching: compares track candidates (labels per hit, from
// track_building.hpp) with the truth particles of an event, and writes TrackML
// submissions. Metrics are raw integer counts that add up over events and
// ranks (one allreduce of to_counts()); rates are computed from them at the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <limits>
#include <vector>

namespace hepgnn::pipeline {

/// n equal bins over [low, high]: n + 1 edges.
std::vector<double> uniform_bin_edges(double low, double high, int n);

struct TrackMatchingConfig {
    double pt_min = 1.0;  // GeV; reconstructable particles have pt > pt_min
    int min_hits = 3;     // reconstructable particles and counted candidates have >= min_hits
                          // hits (among the hits given)
    // Bin edges of the efficiency histograms (ascending; the last may be
    // +inf). The pT histogram ignores pt_min, so it shows the turn-on.
    std::vector<double> pt_bins = {
        0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, std::numeric_limits<double>::infinity()};
    std::vector<double> eta_bins = uniform_bin_edges(-4.0, 4.0, 16);
};

/// Particles per bin of a variable (pT or eta), reconstructable and
/// reconstructed. Values outside [edges.front(), edges.back()) are not counted.
struct EfficiencyHistogram {
    std::vector<double> edges;             // n_bins + 1, ascending
    std::vector<int64_t> reconstructable;  // n_bins
    std::vector<int64_t> reconstructed;    // n_bins

    EfficiencyHistogram() = default;
    /// Throws hepgnn::Error unless there are >= 2 strictly ascending edges.
    explicit EfficiencyHistogram(std::vector<double> edges);
    size_t n_bins() const { return reconstructable.size(); }
    void fill(double x, bool is_reconstructed);
    /// reconstructed / reconstructable in the bin; 0 for an empty bin.
    double efficiency(size_t bin) const;
};

// Note [Track matching]: with n(c) hits in candidate c, n(p) hits of particle
// p (among the hits given) and n(c,p) hits of p in c:
//  * c's majority particle is the p != 0 with 2 n(c,p) > n(c) (at most one);
//  * c matches p (DESIGN §5, double majority) when p is c's majority particle
//    and 2 n(c,p) > n(p). At most one candidate matches a particle, since
//    candidates do not share hits.
// Only candidates with n(c) >= min_hits are counted (n_candidates).
//  * efficiency: reconstructable particles matched by a candidate;
//  * fake: a candidate without a majority particle (mixes particles/noise);
//  * duplicate: a candidate whose majority particle is also the majority
//    particle of another candidate (a split track; all but one count). A split
//    track's pieces are pure, so they are duplicates, not fakes, even when
//    none of them holds half of the particle (then it is also not
//    reconstructed). fake and duplicate cover any particle, whatever its pT,
//    since they are rates per candidate.
//  * unweighted score: the sum of n(c,p) over matching pairs, divided by the
//    number of non-noise hits given: the TrackML score with every non-noise
//    hit weighing 1. It is not the TrackML score (Note [TrackML score] in
//    trackml_score.hpp weighs hits by pT and position along the track), and
//    over a graph's hits it ignores every hit the graph left out; `evaluate`
//    on a graph file reports it as graph_hits_score.
struct TrackMetrics {
    int64_t n_hits = 0;                     // all hits given, noise included
    int64_t n_noise_hits = 0;               // particle_id == 0
    int64_t n_reconstructable = 0;          // pid != 0, pt > pt_min, >= min_hits hits
    int64_t n_reconstructed = 0;            // reconstructable and matched by a candidate
    int64_t n_candidates = 0;               // candidates with >= min_hits hits
    int64_t n_matched_candidates = 0;       // candidates with a majority particle
    int64_t n_fake = 0;                     // n_candidates - n_matched_candidates
    int64_t n_duplicate = 0;                // matched candidates beyond one per particle
    int64_t n_double_matched = 0;           // candidates that match a particle (any pT)
    int64_t n_matched_hits = 0;             // sum of n(c,p) over matching pairs
    EfficiencyHistogram efficiency_vs_pt;   // pid != 0, >= min_hits hits (no pT cut)
    EfficiencyHistogram efficiency_vs_eta;  // reconstructable particles

    TrackMetrics() : TrackMetrics(TrackMatchingConfig{}) {}
    explicit TrackMetrics(const TrackMatchingConfig& config);

    double track_efficiency() const;  // n_reconstructed / n_reconstructable
    double fake_rate() const;         // n_fake / n_candidates
    double duplicate_rate() const;    // n_duplicate / n_candidates
    double unweighted_score() const;  // n_matched_hits / (n_hits - n_noise_hits)
    // (each is 0 when its denominator is 0)

    /// Adds the counts of `other` (same bins, else hepgnn::Error).
    void merge(const TrackMetrics& other);
    /// Every count in a fixed order, for an allreduce: the scalars, then the
    /// pT and the eta histogram (reconstructable, reconstructed).
    std::vector<int64_t> to_counts() const;
    /// Inverse of to_counts() for metrics with the same bins (else
    /// hepgnn::Error naming the sizes).
    void assign_counts(const std::vector<int64_t>& counts);
};

/// Matches the candidates of one event (or graph) to its particles. One entry
/// per hit in each vector: labels from track building (kUnassigned = -1, else
/// 0..n_hits-1), particle_id (0 = noise), pt (GeV) and eta of the hit's
/// particle (the values of a particle's first hit are used). Throws
/// hepgnn::Error for mismatched sizes or a label out of range.
TrackMetrics match_tracks(const TrackMatchingConfig& config, const std::vector<int64_t>& labels,
                          const std::vector<int64_t>& particle_id, const std::vector<float>& pt,
                          const std::vector<float>& eta);

/// One row of a TrackML submission.
struct SubmissionRow {
    int64_t hit_id = 0;
    int64_t track_id = 0;  // 0: unassigned; candidates are 1..K (label + 1)
    bool operator==(const SubmissionRow& o) const {
        return hit_id == o.hit_id && track_id == o.track_id;
    }
};

/// Rows in hit order; sizes must match (else hepgnn::Error).
std::vector<SubmissionRow> make_submission(const std::vector<int64_t>& hit_id,
                                           const std::vector<int64_t>& labels);

/// Writes `event_id,hit_id,track_id` with a header line, atomically (a
/// reader never sees half a file). Throws hepgnn::Error when it cannot write.
void write_submission_csv(const std::filesystem::path& path, int64_t event_id,
                          const std::vector<SubmissionRow>& rows);

}  // namespace hepgnn::pipeline
