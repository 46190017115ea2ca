// Track building: from scored edges of one graph to track candidates (a label
// per hit), the last stage of the Exa.TrkX pipeline. Torch-free: it works on
// plain buffers, so `infer`, `evaluate` and benchmarks share it without
// linking torch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hepgnn::tracks {

/// Label of a hit that belongs to no candidate (or to one below min_hits).
constexpr int64_t kUnassigned = -1;

struct TrackBuildingConfig {
    double cut = 0.5;  // edges with score > cut join their hits (score == cut does not)
    int min_hits = 3;  // candidates with fewer hits are dropped (their hits get kUnassigned)
    // "components": connected components of the edges above the cut.
    // "walkthrough": first keep at most one outgoing and one incoming edge per
    // hit, the highest-scoring ones (Note [Walkthrough]), then components.
    std::string method = "components";
};

/// Labels of one graph: labels[i] is the candidate of hit i, 0..n_candidates-1
/// numbered in order of each candidate's first (lowest-index) hit, or
/// kUnassigned.
struct TrackCandidates {
    std::vector<int64_t> labels;
    int64_t n_candidates = 0;
};

/// Builds candidates graph after graph. Holds O(n_hits + n_edges) work buffers
/// that are reused across calls, so a loop over many graphs does not allocate
/// after the first few. Not thread-safe: use one builder per thread.
class TrackBuilder {
public:
    using Config = TrackBuildingConfig;

    /// Throws hepgnn::Error for a cut outside [0, 1], min_hits < 1 or an
    /// unknown method.
    explicit TrackBuilder(Config config);
    const Config& config() const { return config_; }

    /// Edges go from senders[e] to receivers[e] (inner to outer layer, local
    /// hit indices) with scores in [0, 1] (sigmoid of the logits). Throws
    /// hepgnn::Error naming the edge for an index outside [0, n_hits) or a
    /// score outside [0, 1] (or NaN).
    TrackCandidates build(int64_t n_hits, const int64_t* senders, const int64_t* receivers,
                          const float* scores, int64_t n_edges);
    /// The same for int32 indices, as stored in event graphs (DESIGN §3.2).
    TrackCandidates build(int64_t n_hits, const int32_t* senders, const int32_t* receivers,
                          const float* scores, int64_t n_edges);

private:
    enum class Method { kComponents, kWalkthrough };
    template <typename Index>
    TrackCandidates build_impl(int64_t n_hits, const Index* senders, const Index* receivers,
                               const float* scores, int64_t n_edges);
    template <typename Index>
    void select_walkthrough_edges(int64_t n_hits, const Index* senders, const Index* receivers,
                                  const float* scores, int64_t n_edges);

    Config config_;
    Method method_;
    std::vector<int32_t> parent_;  // union-find forest, then root -> label
    std::vector<int32_t> size_;    // component sizes (valid at roots)
    std::vector<int64_t> order_;   // walkthrough: edges above the cut, best first
    std::vector<float> order_score_;
    std::vector<uint8_t> has_out_, has_in_;  // walkthrough: hit already continued
};

/// One-shot helpers (a fresh builder per call); sizes must match, else
/// hepgnn::Error.
TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int64_t>& senders,
                                       const std::vector<int64_t>& receivers,
                                       const std::vector<float>& scores);
TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int32_t>& senders,
                                       const std::vector<int32_t>& receivers,
                                       const std::vector<float>& scores);

}  // namespace hepgnn::tracks
