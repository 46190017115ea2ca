#include "pipeline/track_building.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <tuple>
#include <utility>

#include "core/error.hpp"

namespace hepgnn::pipeline {

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
// track can still take its second best, which junction removal (below)
// throws away. Candidates become simple chains. Cost: a sort of the edges
// above the cut.
//
// Note [Junction removal]: ACTS's and acorn's filter: at a hit with several
// edges above the cut on one side (in or out), only the best-scoring one
// survives (ties: lower edge index); an edge is kept when it survives at both
// of its ends. Unlike the walkthrough, a hit whose best continuation was
// removed at the other end keeps none, so tracks break where they meet a
// better track. No sort: two passes over the edges.
//
// Note [Double hits]: where detector modules overlap, a particle leaves two
// hits on one layer, and both connect to the neighbouring layers (Note
// [Trajectory steps] in data/trajectory.hpp): A -> {B1, B2} -> C. A chain
// can hold only one of B1, B2; worse, the walkthrough may take A -> B1 and
// B2 -> C and so cut the track in two. walkthrough_doubles first pairs such
// hits: two hits on one layer pair when, through edges above the cut, they
// share a neighbour on both sides, or, at a track's end (neither has an edge
// on one side), have exactly the same neighbours on the other. Two tracks that
// merely pass close by then need two classifier errors to be paired (two
// wrong edges above the cut, or at their ends one wrong and one missed). The
// pair's strength is, per side, the best min(score to a shared neighbour),
// summed over both sides; pairs are taken greedily by strength, a hit in at
// most one pair. The walkthrough then runs over pairs as if they were one hit
// (one slot in, one out), and a pair's track gets both hits.
//
// Note [Track building methods]: measured with scripts/track_building_study.sh
// (5 simulated 10,000-particle events, whole-detector graphs of
// configs/prepare_full.yaml with a module map of 20 other events, 680k edges
// an event; scores from the graphs' labels; TrackML score over all hits,
// rates at pT > 1 GeV, cut 0.5, min_hits 3):
//
//   scores                       method               TrackML  eff    fake   dup
//   perfect (the labels)         components            0.549  0.998  0.000  0.026
//                                junction_removal      0.474  0.985  0.000  0.021
//                                walkthrough           0.475  0.985  0.000  0.066
//                                walkthrough_doubles   0.548  0.998  0.000  0.027
//   logit +-5 + 2 N(0,1)         components            0.434  0.791  0.054  0.034
//   (0.6% of edges wrong)        junction_removal      0.382  0.846  0.002  0.196
//                                walkthrough           0.399  0.889  0.003  0.202
//                                walkthrough_doubles   0.534  0.995  0.004  0.042
//   2% of labels flipped,        components            0.279  0.499  0.095  0.050
//   logit +-4 + N(0,1)           junction_removal      0.269  0.642  0.041  0.259
//                                walkthrough           0.304  0.724  0.046  0.257
//                                walkthrough_doubles   0.409  0.872  0.051  0.167
//
// With perfect scores components are the truth's connectivity; chains
// (walkthrough, junction removal) keep one hit of each double hit and often
// cut the track in two there; walkthrough_doubles comes within 0.001 of
// components. With a few wrong edges components merge tracks, and
// walkthrough_doubles has by far the best TrackML score and efficiency, with
// a fake rate near the walkthrough's, at about the walkthrough's cost
// (bench/bench_track_building.cpp: 1.4M edges in 25 ms against 18 ms;
// components 2 ms). It is the default. Attaching each
// hit left alone to the track of its best edge when that track has a hit on
// its layer (after either walkthrough) gained at most 0.01 and raised the
// fake rate, so it is not kept. The perfect-score ceiling of 0.55 is the
// graphs': particles below 0.3 GeV hold 0.32 of an event's truth weight, and
// three quarters of it lies on hits without a true edge (0.3-0.5 GeV: a
// third), as the map's cut ranges are learned above 0.5 GeV.

// Note [Seed cut]: a lower cut finds more of each track (edges the model is
// unsure of), but also makes chains of nothing but such edges, which are
// mostly fakes. With seed_cut > cut, edges above the cut still extend
// candidates, but a candidate is kept only when an edge above seed_cut joins
// two of its hits: hysteresis thresholding, as in Canny's edge detector.
// Measured in README (evaluate --cut C --seed-cut S).

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
inline uint64_t edge_key(float score, int64_t e) {
    uint32_t bits;
    std::memcpy(&bits, &score, sizeof bits);
    return (uint64_t{~bits} << 32) | static_cast<uint64_t>(e);
}

inline int64_t edge_of(uint64_t key) {
    return static_cast<int64_t>(key & 0xFFFFFFFFu);
}

const std::vector<std::string> kMethods = {"components", "junction_removal", "walkthrough",
                                           "walkthrough_doubles"};

}  // namespace

const std::vector<std::string>& track_building_methods() {
    return kMethods;
}

TrackBuilder::TrackBuilder(Config config) : config_(std::move(config)) {
    HEPGNN_CHECK(config_.cut >= 0.0 && config_.cut <= 1.0,
                 "track building: cut {} is outside [0, 1]; it applies to edge scores "
                 "(probabilities)",
                 config_.cut);
    HEPGNN_CHECK(config_.min_hits >= 1, "track building: min_hits is {}; it must be at least 1",
                 config_.min_hits);
    HEPGNN_CHECK(config_.seed_cut >= 0.0 && config_.seed_cut <= 1.0,
                 "track building: seed cut {} is outside [0, 1]; it applies to edge scores "
                 "(probabilities)",
                 config_.seed_cut);
    if (config_.method == "components")
        method_ = Method::kComponents;
    else if (config_.method == "junction_removal")
        method_ = Method::kJunctionRemoval;
    else if (config_.method == "walkthrough")
        method_ = Method::kWalkthrough;
    else if (config_.method == "walkthrough_doubles")
        method_ = Method::kWalkthroughDoubles;
    else
        HEPGNN_FAIL(
            "track building: unknown method '{}'; use components, junction_removal, walkthrough "
            "or walkthrough_doubles",
            config_.method);
}

template <typename Index>
void TrackBuilder::collect_edges_above_cut(int64_t n_hits, const Index* senders,
                                           const Index* receivers, const float* scores,
                                           int64_t n_edges) {
    // Compared as floats: score == cut is out even when cut is not exact.
    const auto cut = static_cast<float>(config_.cut);
    order_.clear();
    for (int64_t e = 0; e < n_edges; ++e) {
        check_edge(e, senders[e], receivers[e], scores[e], n_hits);
        if (scores[e] > cut) order_.push_back(edge_key(scores[e], e));
    }
}

template <typename Index>
void TrackBuilder::select_junction_removal(const Index* senders, const Index* receivers) {
    const size_t n = parent_.size();
    best_out_.assign(n, std::numeric_limits<uint64_t>::max());
    best_in_.assign(n, std::numeric_limits<uint64_t>::max());
    for (uint64_t key : order_) {  // smaller key: better edge
        const int64_t e = edge_of(key);
        auto& out = best_out_[static_cast<size_t>(senders[e])];
        auto& in = best_in_[static_cast<size_t>(receivers[e])];
        out = std::min(out, key);
        in = std::min(in, key);
    }
    for (uint64_t key : order_) {
        const int64_t e = edge_of(key);
        const auto s = static_cast<int32_t>(senders[e]);
        const auto r = static_cast<int32_t>(receivers[e]);
        if (best_out_[s] == key && best_in_[r] == key) unite(parent_.data(), size_.data(), s, r);
    }
}

template <typename Index>
void TrackBuilder::select_walkthrough(const Index* senders, const Index* receivers) {
    std::sort(order_.begin(), order_.end());
    has_out_.assign(parent_.size(), 0);
    has_in_.assign(parent_.size(), 0);
    const bool grouped = !group_.empty();
    for (uint64_t key : order_) {
        const int64_t e = edge_of(key);
        auto s = static_cast<int32_t>(senders[e]);
        auto r = static_cast<int32_t>(receivers[e]);
        if (grouped) {  // a double hit has one slot on each side
            const int32_t gs = group_[s], gr = group_[r];
            if (gs == gr && s != r) continue;  // an edge inside a pair
            s = gs;
            r = gr;
        }
        if (has_out_[s] || has_in_[r]) continue;
        has_out_[s] = has_in_[r] = 1;
        unite(parent_.data(), size_.data(), s, r);
    }
}

template <typename Index>
void TrackBuilder::build_adjacency(int32_t n, const Index* senders, const Index* receivers,
                                   const float* scores) {
    // CSR lists of the edges above the cut, by sender (out) and by receiver
    // (in), each sorted by neighbour for pair_double_hits' intersections.
    std::vector<std::pair<int32_t, float>> list;
    const auto fill = [&](Adjacency& adj, const Index* from, const Index* to) {
        adj.offsets.assign(static_cast<size_t>(n) + 1, 0);
        for (uint64_t key : order_) ++adj.offsets[static_cast<size_t>(from[edge_of(key)]) + 1];
        for (int32_t i = 0; i < n; ++i) adj.offsets[i + 1] += adj.offsets[i];
        adj.hit.resize(order_.size());
        adj.score.resize(order_.size());
        for (uint64_t key : order_) {  // offsets[i] runs ahead, then is restored below
            const int64_t e = edge_of(key);
            const auto k = static_cast<size_t>(adj.offsets[static_cast<size_t>(from[e])]++);
            adj.hit[k] = static_cast<int32_t>(to[e]);
            adj.score[k] = scores[e];
        }
        for (int32_t i = n; i > 0; --i) adj.offsets[i] = adj.offsets[i - 1];
        adj.offsets[0] = 0;
        for (int32_t i = 0; i < n; ++i) {
            const auto lo = static_cast<size_t>(adj.offsets[i]);
            const auto hi = static_cast<size_t>(adj.offsets[i + 1]);
            if (hi - lo < 2) continue;
            list.clear();
            for (size_t k = lo; k < hi; ++k) list.emplace_back(adj.hit[k], adj.score[k]);
            std::sort(list.begin(), list.end());
            for (size_t k = lo; k < hi; ++k) std::tie(adj.hit[k], adj.score[k]) = list[k - lo];
        }
    };
    fill(out_, senders, receivers);
    fill(in_, receivers, senders);
}

void TrackBuilder::pair_double_hits(int32_t n, const int64_t* layers) {
    // Candidates: two hits on one layer that one hit reaches, or that reach one hit.
    pairs_.clear();
    for (const Adjacency* adj : {&out_, &in_})
        for (int32_t h = 0; h < n; ++h)
            for (int64_t k = adj->offsets[h]; k < adj->offsets[h + 1]; ++k)
                for (int64_t j = k + 1; j < adj->offsets[h + 1]; ++j) {
                    const int32_t a = adj->hit[k], b = adj->hit[j];  // a <= b: sorted
                    if (a != b && layers[a] == layers[b])
                        pairs_.push_back((uint64_t(uint32_t(a)) << 32) | uint32_t(b));
                }
    std::sort(pairs_.begin(), pairs_.end());
    pairs_.erase(std::unique(pairs_.begin(), pairs_.end()), pairs_.end());

    // Per side: the best min(score) over the neighbours a and b share; -1: none.
    const auto shared = [](const Adjacency& adj, int32_t a, int32_t b) {
        float best = -1.0f;
        int64_t i = adj.offsets[a], j = adj.offsets[b];
        while (i < adj.offsets[a + 1] && j < adj.offsets[b + 1]) {
            if (adj.hit[i] < adj.hit[j]) {
                ++i;
            } else if (adj.hit[j] < adj.hit[i]) {
                ++j;
            } else {
                best = std::max(best, std::min(adj.score[i++], adj.score[j++]));
            }
        }
        return best;
    };
    const auto lonely = [](const Adjacency& adj, int32_t h) {
        return adj.offsets[h + 1] == adj.offsets[h];
    };
    const auto same_neighbours = [](const Adjacency& adj, int32_t a, int32_t b) {
        return std::equal(adj.hit.begin() + adj.offsets[a], adj.hit.begin() + adj.offsets[a + 1],
                          adj.hit.begin() + adj.offsets[b], adj.hit.begin() + adj.offsets[b + 1]);
    };
    ranked_.clear();
    for (uint64_t p : pairs_) {
        const auto a = static_cast<int32_t>(p >> 32), b = static_cast<int32_t>(p & 0xFFFFFFFFu);
        const float in = shared(in_, a, b), out = shared(out_, a, b);
        // Shared on both sides; or, at a track's end (both without edges on
        // one side), the very same neighbours on the other.
        const bool in_end = lonely(in_, a) && lonely(in_, b);
        const bool out_end = lonely(out_, a) && lonely(out_, b);
        const bool ok = (in >= 0 && out >= 0) ||
                        (in >= 0 && out_end && same_neighbours(in_, a, b)) ||
                        (out >= 0 && in_end && same_neighbours(out_, a, b));
        if (!ok) continue;
        ranked_.emplace_back(-(std::max(in, 0.0f) + std::max(out, 0.0f)), p);
    }
    std::sort(ranked_.begin(), ranked_.end());  // strongest first, then by pair

    group_.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) group_[i] = i;
    std::vector<uint8_t>& paired = has_in_;  // select_walkthrough resets it
    paired.assign(static_cast<size_t>(n), 0);
    for (const auto& [strength, p] : ranked_) {
        const auto a = static_cast<int32_t>(p >> 32), b = static_cast<int32_t>(p & 0xFFFFFFFFu);
        if (paired[a] || paired[b]) continue;
        paired[a] = paired[b] = 1;
        group_[b] = a;
        unite(parent_.data(), size_.data(), a, b);
    }
}

template <typename Index>
TrackCandidates TrackBuilder::build_impl(int64_t n_hits, const Index* senders,
                                         const Index* receivers, const float* scores,
                                         int64_t n_edges, const int64_t* layers) {
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
    group_.clear();

    collect_edges_above_cut(n_hits, senders, receivers, scores, n_edges);
    switch (method_) {
        case Method::kComponents:
            for (uint64_t key : order_) {
                const int64_t e = edge_of(key);
                unite(parent, size, static_cast<int32_t>(senders[e]),
                      static_cast<int32_t>(receivers[e]));
            }
            break;
        case Method::kJunctionRemoval:
            select_junction_removal(senders, receivers);
            break;
        case Method::kWalkthroughDoubles:
            if (layers != nullptr) {
                build_adjacency(n, senders, receivers, scores);
                pair_double_hits(n, layers);
            }
            select_walkthrough(senders, receivers);
            break;
        case Method::kWalkthrough:
            select_walkthrough(senders, receivers);
            break;
    }

    // Dense labels in order of each candidate's first hit: roots first, then
    // parent_ is reused as root -> label.
    TrackCandidates out;
    out.labels.resize(static_cast<size_t>(n));
    for (int32_t i = 0; i < n; ++i) out.labels[i] = find_root(parent, i);
    // Note [Seed cut]: a candidate needs an edge above the seed cut with both
    // hits in it (the walkthrough took it, or a better edge between them).
    const bool seeded_only = config_.seed_cut > config_.cut;
    if (seeded_only) {
        const auto seed_cut = static_cast<float>(config_.seed_cut);
        seeded_.assign(static_cast<size_t>(n), 0);
        for (uint64_t key : order_) {
            const int64_t e = edge_of(key);
            if (!(scores[e] > seed_cut)) continue;
            const auto root = static_cast<int32_t>(out.labels[senders[e]]);
            if (root == out.labels[receivers[e]]) seeded_[root] = 1;
        }
    }
    std::fill(parent_.begin(), parent_.end(), -1);
    int32_t next = 0;
    for (int32_t i = 0; i < n; ++i) {
        const auto root = static_cast<int32_t>(out.labels[i]);
        if (size[root] < config_.min_hits || (seeded_only && !seeded_[root])) {
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
                                    const int64_t* receivers, const float* scores, int64_t n_edges,
                                    const int64_t* layers) {
    return build_impl(n_hits, senders, receivers, scores, n_edges, layers);
}

TrackCandidates TrackBuilder::build(int64_t n_hits, const int32_t* senders,
                                    const int32_t* receivers, const float* scores, int64_t n_edges,
                                    const int64_t* layers) {
    return build_impl(n_hits, senders, receivers, scores, n_edges, layers);
}

TrackCandidates TrackBuilder::build(const EventHits& event) {
    const size_t n_edges = event.scores.size();
    HEPGNN_CHECK(event.senders.size() == n_edges && event.receivers.size() == n_edges,
                 "track building: event {}: {} senders, {} receivers, {} scores; one of each per "
                 "edge",
                 event.event_id, event.senders.size(), event.receivers.size(), n_edges);
    HEPGNN_CHECK(event.layer.empty() || event.layer.size() == event.hit_id.size(),
                 "track building: event {}: {} layers for {} hits; one per hit or none",
                 event.event_id, event.layer.size(), event.hit_id.size());
    return build(static_cast<int64_t>(event.hit_id.size()), event.senders.data(),
                 event.receivers.data(), event.scores.data(), static_cast<int64_t>(n_edges),
                 event.layer.empty() ? nullptr : event.layer.data());
}

namespace {
template <typename Index>
TrackCandidates build_checked(const TrackBuildingConfig& config, int64_t n_hits,
                              const std::vector<Index>& senders,
                              const std::vector<Index>& receivers, const std::vector<float>& scores,
                              const std::vector<int64_t>& layers) {
    HEPGNN_CHECK(senders.size() == receivers.size() && senders.size() == scores.size(),
                 "track building: sizes mismatch: {} senders, {} receivers, {} scores; one of "
                 "each per edge",
                 senders.size(), receivers.size(), scores.size());
    HEPGNN_CHECK(layers.empty() || static_cast<int64_t>(layers.size()) == n_hits,
                 "track building: {} layers for {} hits; one per hit or none", layers.size(),
                 n_hits);
    TrackBuilder builder(config);
    return builder.build(n_hits, senders.data(), receivers.data(), scores.data(),
                         static_cast<int64_t>(senders.size()),
                         layers.empty() ? nullptr : layers.data());
}
}  // namespace

TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int64_t>& senders,
                                       const std::vector<int64_t>& receivers,
                                       const std::vector<float>& scores,
                                       const std::vector<int64_t>& layers) {
    return build_checked(config, n_hits, senders, receivers, scores, layers);
}

TrackCandidates build_track_candidates(const TrackBuildingConfig& config, int64_t n_hits,
                                       const std::vector<int32_t>& senders,
                                       const std::vector<int32_t>& receivers,
                                       const std::vector<float>& scores,
                                       const std::vector<int64_t>& layers) {
    return build_checked(config, n_hits, senders, receivers, scores, layers);
}

}  // namespace hepgnn::pipeline
