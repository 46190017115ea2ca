// Track building, the last stage of the pipeline (Note [Pipeline stages]):
// from scored edges over the hits of one event to track candidates (a label
// per hit). Torch-free: it works on plain buffers, so `infer`, `evaluate` and
// benchmarks share it without linking torch.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "pipeline/stages.hpp"

namespace hepgnn::pipeline {

struct TrackBuildingConfig {
    // Edges with score > cut join their hits (score == cut does not). Note
    // [Seed cut]: with seed_cut > cut, only candidates holding an edge above
    // seed_cut are kept (hysteresis, as in Canny's edge detector). The
    // defaults are the measured best (README): against cut 0.5 alone, a higher
    // TrackML score with half the fake and a quarter of the duplicate rate.
    double cut = 0.2;
    double seed_cut = 0.9;
    int min_hits = 3;  // candidates with fewer hits are dropped (their hits get kUnassigned)
    // How edges above the cut become candidates (measured in Note [Track
    // building methods]):
    //  "components": connected components of the edges above the cut;
    //  "junction_removal": at a hit with several edges above the cut on one
    //     side, only the best is kept (ACTS, acorn), then components;
    //  "walkthrough": at most one edge out of and one into each hit, taken
    //     greedily best first (Note [Walkthrough]), then components;
    //  "walkthrough_doubles": walkthrough that keeps both hits of a double hit
    //     (Note [Double hits]); needs the hits' layers, without them it is
    //     "walkthrough".
    std::string method = "walkthrough_doubles";
};

/// The method names TrackBuildingConfig::method accepts.
const std::vector<std::string>& track_building_methods();

/// Builds candidates graph after graph. Holds O(n_hits + n_edges) work buffers
/// that are reused across calls, so a loop over many graphs does not allocate
/// after the first few. Not thread-safe: use one builder per thread.
class TrackBuilder final : public TrackBuilding {
public:
    using Config = TrackBuildingConfig;

    /// Throws hepgnn::Error for a cut outside [0, 1], min_hits < 1 or an
    /// unknown method.
    explicit TrackBuilder(Config config);
    const Config& config() const { return config_; }

    /// Edges go from senders[e] to receivers[e] (inner to outer layer, local
    /// hit indices) with scores in [0, 1] (sigmoid of the logits). `layers`
    /// (optional, one per hit, e.g. layer_key(volume, layer)) says which hits
    /// share a detector layer. Throws hepgnn::Error naming the edge for an
    /// index outside [0, n_hits) or a score outside [0, 1] (or NaN).
    TrackCandidates build(int64_t n_hits, const int64_t* senders, const int64_t* receivers,
                          const float* scores, int64_t n_edges, const int64_t* layers = nullptr);
    /// The same for int32 indices, as stored in event graphs (DESIGN §3.2).
    TrackCandidates build(int64_t n_hits, const int32_t* senders, const int32_t* receivers,
                          const float* scores, int64_t n_edges, const int64_t* layers = nullptr);
    /// The TrackBuilding stage: the event's hits, edges, scores and layers
    /// (sizes must match, else hepgnn::Error).
    TrackCandidates build(const EventHits& event) override;
    std::string describe() const override { return config_.method; }

private:
    enum class Method { kComponents, kJunctionRemoval, kWalkthrough, kWalkthroughDoubles };
    template <typename Index>
    TrackCandidates build_impl(int64_t n_hits, const Index* senders, const Index* receivers,
                               const float* scores, int64_t n_edges, const int64_t* layers);
    template <typename Index>
    void collect_edges_above_cut(int64_t n_hits, const Index* senders, const Index* receivers,
                                 const float* scores, int64_t n_edges);
    template <typename Index>
    void select_junction_removal(const Index* senders, const Index* receivers);
    template <typename Index>
    void select_walkthrough(const Index* senders, const Index* receivers);
    template <typename Index>
    void build_adjacency(int32_t n, const Index* senders, const Index* receivers,
                         const float* scores);
    void pair_double_hits(int32_t n, const int64_t* layers);

    Config config_;
    Method method_;
    std::vector<int32_t> parent_;  // union-find forest, then root -> label
    std::vector<int32_t> size_;    // component sizes (valid at roots)
    std::vector<uint64_t> order_;  // edges above the cut: (~score bits, index), best first
    std::vector<uint64_t> best_out_, best_in_;  // junction removal: best edge key per hit and side
    std::vector<uint8_t> has_out_, has_in_;     // walkthrough: slot of a hit (or pair) taken
    std::vector<int32_t> group_;   // walkthrough_doubles: hit -> its pair's first hit (or itself)
    std::vector<uint8_t> seeded_;  // per root: holds an edge above seed_cut
    // walkthrough_doubles: edges above the cut by sender (out) and receiver
    // (in), as CSR lists of (neighbour, score) sorted by neighbour.
    struct Adjacency {
        std::vector<int64_t> offsets;
        std::vector<int32_t> hit;
        std::vector<float> score;
    };
    Adjacency out_, in_;
    std::vector<uint64_t> pairs_;  // candidate double hits (first << 32 | second)
    std::vector<std::pair<float, uint64_t>> ranked_;  // (-strength, pair) of valid pairs
};

/// One-shot helpers (a fresh builder per call); sizes must match, else
/// hepgnn::Error. `layers`: empty, or one per hit.
TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int64_t>& senders,
                                       const std::vector<int64_t>& receivers,
                                       const std::vector<float>& scores,
                                       const std::vector<int64_t>& layers = {});
TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int32_t>& senders,
                                       const std::vector<int32_t>& receivers,
                                       const std::vector<float>& scores,
                                       const std::vector<int64_t>& layers = {});

}  // namespace hepgnn::pipeline
