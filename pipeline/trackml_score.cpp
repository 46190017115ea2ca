#include "pipeline/trackml_score.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <unordered_map>
#include <utility>

#include "core/error.hpp"
#include "pipeline/stages.hpp"

namespace hepgnn::pipeline {

EventTruth event_truth(const data::TrackmlEvent& event, const std::string& source) {
    std::unordered_map<int64_t, size_t> index_of;
    index_of.reserve(event.particles.size());
    for (size_t k = 0; k < event.particles.size(); ++k)
        index_of.emplace(event.particles[k].particle_id, k);

    const size_t n = event.truth.size();
    EventTruth t;
    t.particle_id.resize(n);
    t.weight.resize(n);
    t.pt.assign(n, 0.0f);
    t.eta.assign(n, 0.0f);
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
        const data::TruthHit& h = event.truth[i];
        HEPGNN_CHECK(std::isfinite(h.weight) && h.weight >= 0,
                     "event {} ({}): hit_id {} has truth weight {}; TrackML weights are finite "
                     "and >= 0 (fix or regenerate the truth file)",
                     event.event_id, source, h.hit_id, h.weight);
        t.particle_id[i] = h.particle_id;
        t.weight[i] = h.weight;
        total += h.weight;
        if (h.particle_id == 0) continue;
        const auto it = index_of.find(h.particle_id);
        HEPGNN_CHECK(it != index_of.end(),
                     "event {} ({}): hit_id {} belongs to particle_id {}, which the particles "
                     "table does not list (its pT and eta are needed; regenerate the event)",
                     event.event_id, source, h.hit_id, h.particle_id);
        const data::Particle& p = event.particles[it->second];
        const double pt = std::hypot(double(p.px), double(p.py));
        t.pt[i] = static_cast<float>(pt);
        t.eta[i] = static_cast<float>(std::asinh(double(p.pz) / pt));  // +-inf or NaN at pT 0
    }
    HEPGNN_CHECK(total > 0,
                 "event {} ({}): the truth weights of its {} hits sum to 0, so the TrackML score "
                 "is undefined (TrackML truth gives each hit a weight in the 'weight' column; "
                 "regenerate the event with 'hepgnn simulate')",
                 event.event_id, source, n);
    return t;
}

std::vector<int64_t> dense_track_labels(const std::vector<int64_t>& track_id,
                                        bool zero_is_unassigned) {
    std::vector<int64_t> ids = track_id;
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    if (zero_is_unassigned) {
        const auto zero = std::lower_bound(ids.begin(), ids.end(), 0);
        if (zero != ids.end() && *zero == 0) ids.erase(zero);
    }
    std::vector<int64_t> labels(track_id.size());
    for (size_t i = 0; i < track_id.size(); ++i) {
        const auto it = std::lower_bound(ids.begin(), ids.end(), track_id[i]);
        labels[i] = (it != ids.end() && *it == track_id[i]) ? it - ids.begin() : kUnassigned;
    }
    return labels;
}

WeightBreakdown::WeightBreakdown(std::vector<double> pt_edges) : pt_edges(std::move(pt_edges)) {
    HEPGNN_CHECK(this->pt_edges.size() >= 2 &&
                     std::adjacent_find(this->pt_edges.begin(), this->pt_edges.end(),
                                        std::greater_equal<>()) == this->pt_edges.end(),
                 "score breakdown: pT bin edges must be >= 2 and strictly ascending, got {}",
                 this->pt_edges.size());
    bins.resize(this->pt_edges.size() - 1);
}

void WeightBreakdown::merge(const WeightBreakdown& other) {
    HEPGNN_CHECK(other.pt_edges == pt_edges,
                 "score breakdown: cannot add a breakdown with other pT bins ({} edges, not {})",
                 other.pt_edges.size(), pt_edges.size());
    const auto v = other.to_values();
    auto mine = to_values();
    for (size_t k = 0; k < v.size(); ++k) mine[k] += v[k];
    assign_values(mine);
}

std::vector<double> WeightBreakdown::to_values() const {
    std::vector<double> v{noise};
    for (const Bin& b : bins)
        v.insert(v.end(), {b.total, b.matched, b.incomplete, b.unassigned, b.merged, b.split});
    return v;
}

void WeightBreakdown::assign_values(const std::vector<double>& v) {
    constexpr size_t kPerBin = 6;
    HEPGNN_CHECK(v.size() == 1 + kPerBin * bins.size(),
                 "score breakdown: {} values for {} pT bins; expected {}", v.size(), bins.size(),
                 1 + kPerBin * bins.size());
    noise = v[0];
    for (size_t b = 0; b < bins.size(); ++b) {
        const double* x = v.data() + 1 + kPerBin * b;
        bins[b] = {x[0], x[1], x[2], x[3], x[4], x[5]};
    }
}

TrackmlScore trackml_score(const std::vector<int64_t>& labels,
                           const std::vector<int64_t>& particle_id,
                           const std::vector<float>& weight, const std::vector<float>* pt,
                           WeightBreakdown* breakdown) {
    const size_t n = labels.size();
    HEPGNN_CHECK(particle_id.size() == n && weight.size() == n,
                 "TrackML score: sizes mismatch: {} labels, {} particle ids, {} weights; one of "
                 "each per hit",
                 n, particle_id.size(), weight.size());
    HEPGNN_CHECK(breakdown == nullptr || (pt != nullptr && pt->size() == n),
                 "TrackML score: a score breakdown needs one pT per hit, got {} for {} hits",
                 pt ? pt->size() : 0, n);
    HEPGNN_CHECK(n <= size_t{0x7FFFFFFF}, "TrackML score: {} hits; at most 2^31-1 supported", n);
    TrackmlScore s;

    // Dense particle indices with n(p); noise stays -1.
    std::unordered_map<int64_t, int32_t> index_of;
    index_of.reserve(n / 4 + 16);
    std::vector<int32_t> hit_particle(n, -1), particle_hits;
    std::vector<int32_t> track_hits(n, 0);
    for (size_t i = 0; i < n; ++i) {
        s.total_weight += weight[i];
        const int64_t label = labels[i];
        HEPGNN_CHECK(label == kUnassigned || (label >= 0 && label < int64_t(n)),
                     "TrackML score: hit {} has label {}; labels are -1 (no track) or 0..{}", i,
                     label, int64_t(n) - 1);
        if (label >= 0) s.n_tracks += track_hits[label]++ == 0;
        if (particle_id[i] == 0) continue;
        const auto [it, inserted] =
            index_of.emplace(particle_id[i], static_cast<int32_t>(particle_hits.size()));
        if (inserted) particle_hits.push_back(0);
        hit_particle[i] = it->second;
        ++particle_hits[it->second];
    }

    // Hits grouped by (track, particle + 1), noise as particle 0; the hit
    // index keeps the order of the weight sums fixed.
    std::vector<std::pair<uint64_t, uint32_t>> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i)
        if (labels[i] >= 0)
            keys.emplace_back((static_cast<uint64_t>(labels[i]) << 32) |
                                  static_cast<uint64_t>(hit_particle[i] + 1),
                              static_cast<uint32_t>(i));
    std::sort(keys.begin(), keys.end());
    // Per particle: its most hits in one track, its hits in any track, and
    // the weight it is matched with.
    std::vector<int32_t> best_track(particle_hits.size(), 0), assigned(particle_hits.size(), 0);
    std::vector<double> matched_weight(particle_hits.size(), 0.0);
    std::vector<uint8_t> matched(particle_hits.size(), 0);
    for (size_t k = 0; k < keys.size();) {
        const uint64_t key = keys[k].first;
        double w = 0;
        size_t end = k;
        for (; end < keys.size() && keys[end].first == key; ++end) w += weight[keys[end].second];
        const auto count = static_cast<int64_t>(end - k);
        k = end;
        const auto t = static_cast<size_t>(key >> 32);
        const int64_t p = static_cast<int64_t>(key & 0xFFFFFFFFu) - 1;
        if (p >= 0) {
            best_track[p] = std::max(best_track[p], static_cast<int32_t>(count));
            assigned[p] += static_cast<int32_t>(count);
        }
        // Double majority (Note [TrackML score]).
        if (p < 0 || 2 * count <= track_hits[t] || 2 * count <= particle_hits[p]) continue;
        ++s.n_matched;
        s.n_matched_hits += count;
        s.matched_weight += w;
        matched_weight[p] = w;
        matched[p] = 1;
    }
    if (breakdown == nullptr) return s;

    // Note [Score breakdown]: each particle's weight and pT (of its first hit).
    std::vector<double> particle_weight(particle_hits.size(), 0.0);
    std::vector<float> particle_pt(particle_hits.size(), 0.0f);
    for (size_t i = n; i-- > 0;) {
        if (hit_particle[i] < 0) {
            breakdown->noise += weight[i];
            continue;
        }
        particle_weight[hit_particle[i]] += weight[i];
        particle_pt[hit_particle[i]] = (*pt)[i];
    }
    const auto& edges = breakdown->pt_edges;
    for (size_t p = 0; p < particle_hits.size(); ++p) {
        const auto at = std::upper_bound(edges.begin(), edges.end(), double(particle_pt[p]));
        if (at == edges.begin() || at == edges.end()) continue;
        WeightBreakdown::Bin& bin = breakdown->bins[at - edges.begin() - 1];
        const double wp = particle_weight[p];
        bin.total += wp;
        if (matched[p]) {
            bin.matched += matched_weight[p];
            bin.incomplete += wp - matched_weight[p];
        } else if (2 * (particle_hits[p] - assigned[p]) > particle_hits[p]) {
            bin.unassigned += wp;
        } else if (2 * best_track[p] > particle_hits[p]) {
            bin.merged += wp;
        } else {
            bin.split += wp;
        }
    }
    return s;
}

TrackMatchingConfig ScoreConfig::matching(double pt) const {
    TrackMatchingConfig c;
    c.pt_min = pt;
    c.min_hits = min_hits;
    c.pt_bins = pt_bins;
    c.eta_bins = eta_bins;
    return c;
}

EventScore score_event(const ScoreConfig& config, int64_t event_id, const EventTruth& truth,
                       const std::vector<int64_t>& track_id) {
    const size_t n = truth.particle_id.size();
    HEPGNN_CHECK(track_id.size() == n && truth.weight.size() == n && truth.pt.size() == n &&
                     truth.eta.size() == n,
                 "score of event {}: sizes mismatch: {} track ids for {} truth hits (weights {}, "
                 "pt {}, eta {})",
                 event_id, track_id.size(), n, truth.weight.size(), truth.pt.size(),
                 truth.eta.size());
    EventScore s;
    s.event_id = event_id;
    const auto labels = dense_track_labels(track_id, config.zero_is_unassigned);
    s.weights = WeightBreakdown(config.weight_pt_bins);
    s.trackml = trackml_score(labels, truth.particle_id, truth.weight, &truth.pt, &s.weights);
    s.tracks = match_tracks(config.matching(config.pt_min), labels, truth.particle_id, truth.pt,
                            truth.eta);
    s.tracks_low = match_tracks(config.matching(config.pt_min_low), labels, truth.particle_id,
                                truth.pt, truth.eta);
    return s;
}

}  // namespace hepgnn::pipeline
