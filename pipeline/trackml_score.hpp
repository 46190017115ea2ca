// Scoring a reconstruction of a whole event against its truth: the TrackML
// challenge's weighted score, and the track efficiency, fake and duplicate
// rates over every particle of the event (match_tracks). Torch-free.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "data/trackml_event.hpp"
#include "pipeline/track_matching.hpp"

namespace hepgnn::pipeline {

// Note [TrackML score]: the score of the Kaggle TrackML challenge (phase 1),
// as trackml-library's score_event computes it. For one event, with hits i,
// truth weights w_i (truth.csv 'weight') and particles p (particle_id != 0):
//  * a track t is the set of hits sharing a track id (Note [Track id 0]);
//  * n(t) = hits in t, n(p) = hits of p in the truth (all of the event's
//    hits, whatever a graph kept), n(t,p) = hits of p in t;
//  * t matches p when 2 n(t,p) > n(t) and 2 n(t,p) > n(p) (double majority;
//    at most one p per t, at most one t per p);
//  * score = sum over matching (t,p) of the weights of p's hits in t,
//    divided by W = the sum of w_i over ALL hits of the event, noise included.
//    TrackML events have W = 1 (noise and particles with < 4 hits weigh 0),
//    so the score is the matched weight itself; W is reported next to it.
// No min_hits cut and no pT cut: every track and every hit counts. Noise
// (particle_id 0) is never a particle, so a noise hit never adds to the
// score; it still counts in n(t). trackml-library treats noise as particle 0,
// which gives the same score because TrackML gives noise weight 0.
//
// Note [Track id 0]: TrackML treated every track id, 0 included, as a track.
// `hepgnn infer` writes track 0 for hits it left unassigned (they form one
// big track, which in practice matches nothing and, with >= min_hits hits,
// is one fake).
// ScoreConfig::zero_is_unassigned chooses: false (the default) scores
// track 0 as a track, exactly as TrackML; true puts its hits in no track, as
// `evaluate` counts unassigned hits. Negative ids are tracks like any other.

/// One entry per hit of an event, in the event's hit order.
struct EventTruth {
    std::vector<int64_t> particle_id;  // 0: noise
    std::vector<float> weight;         // truth.csv 'weight'
    std::vector<float> pt, eta;        // of the hit's particle (particles.csv), 0 for noise
};

/// Per-hit truth of `event` (read with its particles). pT = hypot(px, py) and
/// eta = asinh(pz / pT) of the particle's momentum in particles.csv.
/// `source` names the event's files, for messages. Throws hepgnn::Error for
/// a particle of the truth that the particles table lacks, a weight that is
/// negative or not finite, or weights that sum to 0 (the score is undefined).
EventTruth event_truth(const data::TrackmlEvent& event, const std::string& source);

/// Dense track labels for match_tracks: the i-th distinct track id (in
/// ascending id order) becomes label i; kUnassigned for track 0 when
/// `zero_is_unassigned` (Note [Track id 0]).
std::vector<int64_t> dense_track_labels(const std::vector<int64_t>& track_id,
                                        bool zero_is_unassigned);

/// The weighted score of one event (Note [TrackML score]).
struct TrackmlScore {
    double matched_weight = 0;   // sum of w over p's hits in t, over matching (t, p)
    double total_weight = 0;     // W: sum of w over all hits, noise included
    int64_t n_tracks = 0;        // tracks of any size
    int64_t n_matched = 0;       // tracks that match a particle
    int64_t n_matched_hits = 0;  // sum of n(t,p) over matching (t, p)
    /// matched_weight / total_weight; 0 when total_weight is 0.
    double score() const { return total_weight > 0 ? matched_weight / total_weight : 0.0; }
};

// Note [Score breakdown]: where an event's weight goes, so a user sees what
// caps the score. Each particle p's weight W_p (the sum over its hits) falls,
// by the outcome of the double-majority matching, into
//  * matched:    the weight of p's hits in the track matching p (the score);
//  * incomplete: the weight of p's other hits, when a track matches p;
//  * unassigned: all of W_p, when p is unmatched and more than half of its
//                hits are in no track;
//  * merged:     all of W_p, when p is unmatched and a track holds more than
//                half of its hits (p is not that track's majority: the track
//                mixes p with others);
//  * split:      all of W_p otherwise: no track holds half of p's hits.
// Noise hits' weight (0 in TrackML) is kept apart. The parts add up to W, and
// they are binned by the particle's pT, since pT sets a particle's weight.
struct WeightBreakdown {
    struct Bin {
        double total = 0, matched = 0, incomplete = 0, unassigned = 0, merged = 0, split = 0;
    };
    std::vector<double> pt_edges;  // GeV, ascending; the last may be +inf
    std::vector<Bin> bins;         // pt_edges.size() - 1; pT outside the edges is not binned
    double noise = 0;              // weight of noise hits

    WeightBreakdown() = default;
    /// Throws hepgnn::Error unless there are >= 2 strictly ascending edges.
    explicit WeightBreakdown(std::vector<double> pt_edges);
    /// Adds `other` (same edges, else hepgnn::Error).
    void merge(const WeightBreakdown& other);
    /// Every sum in a fixed order, for an allreduce; assign_values inverts it
    /// for a breakdown with the same edges (else hepgnn::Error).
    std::vector<double> to_values() const;
    void assign_values(const std::vector<double>& values);
};

/// `labels` per hit as from dense_track_labels (kUnassigned: no track);
/// particle ids and weights per hit. With `breakdown`, also fills it from
/// `pt` (one per hit, of its particle; Note [Score breakdown]). Throws
/// hepgnn::Error for mismatched sizes or a label out of range.
TrackmlScore trackml_score(const std::vector<int64_t>& labels,
                           const std::vector<int64_t>& particle_id,
                           const std::vector<float>& weight, const std::vector<float>* pt = nullptr,
                           WeightBreakdown* breakdown = nullptr);

struct ScoreConfig {
    // Reconstructable particles and counted tracks have >= min_hits hits
    // (the efficiency, fake and duplicate rates; not the TrackML score).
    int min_hits = 3;
    double pt_min = 1.0;              // GeV: the main efficiency threshold (pT > pt_min)
    double pt_min_low = 0.5;          // GeV: the second one (JSON "pt_0.5")
    bool zero_is_unassigned = false;  // Note [Track id 0]
    std::vector<double> pt_bins = TrackMatchingConfig{}.pt_bins;  // GeV
    std::vector<double> eta_bins = uniform_bin_edges(-4.0, 4.0, 16);
    // GeV: bins of Note [Score breakdown]; TrackML's pT weight is flat below
    // 0.5 GeV, but there the low bins need the widest graphs.
    std::vector<double> weight_pt_bins = {
        0.0, 0.2, 0.3, 0.5, 1.0, 3.0, std::numeric_limits<double>::infinity()};

    /// The match_tracks config at threshold `pt` (GeV).
    TrackMatchingConfig matching(double pt) const;
};

/// Everything `hepgnn score` reports for one event. The rates of `tracks`
/// follow Note [Track matching] over all hits of the event: the efficiency
/// is over particles with pT > pt_min (`tracks_low`: pT > pt_min_low); fake
/// and duplicate rates are per track, whatever the pT, so they are the same
/// in both.
struct EventScore {
    int64_t event_id = 0;
    TrackmlScore trackml;
    TrackMetrics tracks;      // pT > config.pt_min
    TrackMetrics tracks_low;  // pT > config.pt_min_low
    WeightBreakdown weights;  // over config.weight_pt_bins
};

/// Scores one event: `track_id` per hit in the order of `truth` (as from
/// track_ids_per_hit in submission.hpp).
EventScore score_event(const ScoreConfig& config, int64_t event_id, const EventTruth& truth,
                       const std::vector<int64_t>& track_id);

}  // namespace hepgnn::pipeline
