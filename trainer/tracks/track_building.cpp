#include "trainer/tracks/track_building.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "core/error.hpp"

namespace hepgnn::tracks {

// Note [Walkthrough]: connected components merge two particles into one
// candidate as soon as one wrong edge above the cut joins them (typically at a
// junction: a hit with two continuations). A merged candidate fails the 50%
// majority for at least one of the particles, often for both (then it is a
// fake). A real track continues to at most one hit on the next layer and
// comes from at most one hit on the previous one, so at a junction all but one
// edge are wrong; like Exa.TrkX's walkthrough we keep the most confident one.
// Edges are taken greedily in decreasing score (ties: lower edge index), and
// an edge is kept unless a better one already took its sender's outgoing or
// its receiver's incoming slot. Each decision is thus made once and agrees at
// both ends of the edge: a hit that loses its best continuation to a better
// track can still take its second best, which a plain "keep the best outgoing
// and the best incoming edge" filter would throw away. Candidates become
// simple chains. Cost: a sort of the edges above the cut.

namespace {

// Union-find with path halving and union by size: near-linear (inverse
// Ackermann) in the number of edges. int32 indices keep the forest of a 150k-hit
// graph (0.6 MB) in cache.
inline int32_t find_root(int32_t* parent, int32_t i) {
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    return i;
}

inline void unite(int32_t* parent, int32_t* size, int32_t a, int32_t b) {
    a = find_root(parent, a);
    b = find_root(parent, b);
    if (a == b) return;
    if (size[a] < size[b]) std::swap(a, b);
    parent[b] = a;
    size[a] += size[b];
}

template <typename Index>
void check_edge(int64_t e, Index s, Index r, float score, int64_t n_hits) {
    HEPGNN_CHECK(s >= 0 && s < n_hits && r >= 0 && r < n_hits,
                 "track building: edge {} joins hits {} -> {}, but the graph has {} hits (valid "
                 "indices are 0..{}); pass hit indices local to the graph",
                 e, static_cast<int64_t>(s), static_cast<int64_t>(r), n_hits, n_hits - 1);
    HEPGNN_CHECK(score >= 0.0f && score <= 1.0f,
                 "track building: edge {} has score {}, outside [0, 1]; pass sigmoid(logit), not "
                 "the logit",
                 e, score);
}

// Sort key of an edge above the cut: best score first, then lower index. A
// non-negative float's bits order like the float, so (~bits, index) in one
// uint64 sorts with plain integer compares.
inline uint64_t walkthrough_key(float score, int64_t e) {
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    return (uint64_t{~bits} << 32) | static_cast<uint64_t>(e);
}

}  // namespace

TrackBuilder::TrackBuilder(Config config) : config_(std::move(config)) {
    HEPGNN_CHECK(config_.cut >= 0.0 && config_.cut <= 1.0,
                 "track building: cut {} is outside [0, 1]; it applies to edge scores "
                 "(probabilities)",
                 config_.cut);
    HEPGNN_CHECK(config_.min_hits >= 1, "track building: min_hits is {}; it must be at least 1",
                 config_.min_hits);
    if (config_.method == "components")
        method_ = Method::kComponents;
    else if (config_.method == "walkthrough")
        method_ = Method::kWalkthrough;
    else
        HEPGNN_FAIL("track building: unknown method '{}'; use 'components' or 'walkthrough'",
                    config_.method);
}

template <typename Index>
void TrackBuilder::select_walkthrough_edges(int64_t n_hits, const Index* senders,
                                            const Index* receivers, const float* scores,
                                            int64_t n_edges) {
    const auto cut = static_cast<float>(config_.cut);
    order_.clear();
    for (int64_t e = 0; e < n_edges; ++e) {
        check_edge(e, senders[e], receivers[e], scores[e], n_hits);
        if (scores[e] > cut) order_.push_back(walkthrough_key(scores[e], e));
    }
    std::sort(order_.begin(), order_.end());
    has_out_.assign(static_cast<size_t>(n_hits), 0);
    has_in_.assign(static_cast<size_t>(n_hits), 0);
    for (uint64_t key : order_) {
        const auto e = static_cast<int64_t>(key & 0xFFFFFFFFu);
        const auto s = static_cast<int32_t>(senders[e]);
        const auto r = static_cast<int32_t>(receivers[e]);
        if (has_out_[s] || has_in_[r]) continue;
        has_out_[s] = has_in_[r] = 1;
        unite(parent_.data(), size_.data(), s, r);
    }
}

template <typename Index>
TrackCandidates TrackBuilder::build_impl(int64_t n_hits, const Index* senders,
                                         const Index* receivers, const float* scores,
                                         int64_t n_edges) {
    HEPGNN_CHECK(n_hits >= 0 && n_hits <= std::numeric_limits<int32_t>::max(),
                 "track building: {} hits in one graph; 0..2^31-1 are supported", n_hits);
    HEPGNN_CHECK(n_edges >= 0 && n_edges <= int64_t{std::numeric_limits<uint32_t>::max()},
                 "track building: {} edges in one graph; 0..2^32-1 are supported", n_edges);
    HEPGNN_CHECK(n_edges == 0 || (senders && receivers && scores),
                 "track building: {} edges but no sender, receiver or score buffer", n_edges);

    const auto n = static_cast<int32_t>(n_hits);
    parent_.resize(static_cast<size_t>(n));
    size_.assign(static_cast<size_t>(n), 1);
    for (int32_t i = 0; i < n; ++i) parent_[i] = i;
    int32_t* parent = parent_.data();
    int32_t* size = size_.data();

    if (method_ == Method::kWalkthrough) {
        select_walkthrough_edges(n_hits, senders, receivers, scores, n_edges);
    } else {
        const auto cut = static_cast<float>(config_.cut);  // compare as floats: score == cut
                                                           // is out even when cut is not exact
        for (int64_t e = 0; e < n_edges; ++e) {
            check_edge(e, senders[e], receivers[e], scores[e], n_hits);
            if (scores[e] > cut)
                unite(parent, size, static_cast<int32_t>(senders[e]),
                      static_cast<int32_t>(receivers[e]));
        }
    }

    // Dense labels in order of each candidate's first hit: roots first, then
    // parent_ is reused as root -> label.
    TrackCandidates out;
    out.labels.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) out.labels[i] = find_root(parent, i);
    std::fill(parent_.begin(), parent_.end(), -1);
    int32_t next = 0;
    for (int32_t i = 0; i < n; ++i) {
        const auto root = static_cast<int32_t>(out.labels[i]);
        if (size[root] < config_.min_hits) {
            out.labels[i] = kUnassigned;
            continue;
        }
        if (parent[root] < 0) parent[root] = next++;
        out.labels[i] = parent[root];
    }
    out.n_candidates = next;
    return out;
}

TrackCandidates TrackBuilder::build(int64_t n_hits, const int64_t* senders,
                                    const int64_t* receivers, const float* scores,
                                    int64_t n_edges) {
    return build_impl(n_hits, senders, receivers, scores, n_edges);
}

TrackCandidates TrackBuilder::build(int64_t n_hits, const int32_t* senders,
                                    const int32_t* receivers, const float* scores,
                                    int64_t n_edges) {
    return build_impl(n_hits, senders, receivers, scores, n_edges);
}

namespace {
template <typename Index>
TrackCandidates build_checked(const TrackBuildingConfig& config, int64_t n_hits,
                              const std::vector<Index>& senders,
                              const std::vector<Index>& receivers,
                              const std::vector<float>& scores) {
    HEPGNN_CHECK(senders.size() == receivers.size() && senders.size() == scores.size(),
                 "track building: sizes mismatch: {} senders, {} receivers, {} scores; one of "
                 "each per edge",
                 senders.size(), receivers.size(), scores.size());
    TrackBuilder builder(config);
    return builder.build(n_hits, senders.data(), receivers.data(), scores.data(),
                         static_cast<int64_t>(senders.size()));
}
}  // namespace

TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int64_t>& senders,
                                       const std::vector<int64_t>& receivers,
                                       const std::vector<float>& scores) {
    return build_checked(config, n_hits, senders, receivers, scores);
}

TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int32_t>& senders,
                                       const std::vector<int32_t>& receivers,
                                       const std::vector<float>& scores) {
    return build_checked(config, n_hits, senders, receivers, scores);
}

}  // namespace hepgnn::tracks
