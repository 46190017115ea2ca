#include "pipeline/track_matching.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <unordered_map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "pipeline/track_building.hpp"

namespace hepgnn::pipeline {

std::vector<double> uniform_bin_edges(double low, double high, int n) {
    HEPGNN_CHECK(n >= 1 && high > low,
                 "bin edges: {} bins over [{}, {}]; need n >= 1 and high > low", n, low, high);
    std::vector<double> edges(static_cast<size_t>(n) + 1);
    for (int i = 0; i <= n; ++i) edges[i] = low + (high - low) * i / n;  // exact ends
    return edges;
}

// ---- EfficiencyHistogram ---------------------------------------------------

EfficiencyHistogram::EfficiencyHistogram(std::vector<double> e) : edges(std::move(e)) {
    HEPGNN_CHECK(edges.size() >= 2, "efficiency histogram: {} bin edges; need at least 2",
                 edges.size());
    for (size_t i = 1; i < edges.size(); ++i)
        HEPGNN_CHECK(edges[i] > edges[i - 1],
                     "efficiency histogram: bin edges must ascend, but edge {} is {} after {}", i,
                     edges[i], edges[i - 1]);
    reconstructable.assign(edges.size() - 1, 0);
    reconstructed.assign(edges.size() - 1, 0);
}

void EfficiencyHistogram::fill(double x, bool is_reconstructed) {
    if (!(x >= edges.front() && x < edges.back())) return;  // also drops NaN
    const auto bin =
        static_cast<size_t>(std::upper_bound(edges.begin(), edges.end(), x) - edges.begin() - 1);
    ++reconstructable[bin];
    if (is_reconstructed) ++reconstructed[bin];
}

double EfficiencyHistogram::efficiency(size_t bin) const {
    return reconstructable.at(bin) > 0 ? double(reconstructed[bin]) / reconstructable[bin] : 0.0;
}

// ---- TrackMetrics ----------------------------------------------------------

namespace {
constexpr size_t kScalars = 10;

double ratio(int64_t num, int64_t den) {
    return den > 0 ? double(num) / double(den) : 0.0;
}

void check_same_bins(const EfficiencyHistogram& to, const EfficiencyHistogram& from,
                     const char* what) {
    HEPGNN_CHECK(to.edges == from.edges,
                 "track metrics: cannot merge {} histograms with different bins ({} vs {} edges); "
                 "use the same track matching config everywhere",
                 what, to.edges.size(), from.edges.size());
}
}  // namespace

TrackMetrics::TrackMetrics(const TrackMatchingConfig& config)
    : efficiency_vs_pt(config.pt_bins), efficiency_vs_eta(config.eta_bins) {}

double TrackMetrics::track_efficiency() const {
    return ratio(n_reconstructed, n_reconstructable);
}
double TrackMetrics::fake_rate() const {
    return ratio(n_fake, n_candidates);
}
double TrackMetrics::duplicate_rate() const {
    return ratio(n_duplicate, n_candidates);
}
double TrackMetrics::unweighted_score() const {
    return ratio(n_matched_hits, n_hits - n_noise_hits);
}

void TrackMetrics::merge(const TrackMetrics& other) {
    // Through the flat counts, so merge() and to_counts() cannot disagree.
    check_same_bins(efficiency_vs_pt, other.efficiency_vs_pt, "pT");
    check_same_bins(efficiency_vs_eta, other.efficiency_vs_eta, "eta");
    auto sum = to_counts();
    const auto add = other.to_counts();
    for (size_t i = 0; i < sum.size(); ++i) sum[i] += add[i];
    assign_counts(sum);
}

std::vector<int64_t> TrackMetrics::to_counts() const {
    std::vector<int64_t> c = {n_hits,          n_noise_hits, n_reconstructable,
                              n_reconstructed, n_candidates, n_matched_candidates,
                              n_fake,          n_duplicate,  n_double_matched,
                              n_matched_hits};
    for (const auto* h : {&efficiency_vs_pt, &efficiency_vs_eta}) {
        c.insert(c.end(), h->reconstructable.begin(), h->reconstructable.end());
        c.insert(c.end(), h->reconstructed.begin(), h->reconstructed.end());
    }
    return c;
}

void TrackMetrics::assign_counts(const std::vector<int64_t>& c) {
    const size_t expected = kScalars + 2 * (efficiency_vs_pt.n_bins() + efficiency_vs_eta.n_bins());
    HEPGNN_CHECK(c.size() == expected,
                 "track metrics: {} counts given, but these metrics have {} ({} scalars, {} pT and "
                 "{} eta bins); use the same track matching config everywhere",
                 c.size(), expected, kScalars, efficiency_vs_pt.n_bins(),
                 efficiency_vs_eta.n_bins());
    size_t k = 0;
    for (int64_t* v :
         {&n_hits, &n_noise_hits, &n_reconstructable, &n_reconstructed, &n_candidates,
          &n_matched_candidates, &n_fake, &n_duplicate, &n_double_matched, &n_matched_hits})
        *v = c[k++];
    for (auto* h : {&efficiency_vs_pt, &efficiency_vs_eta}) {
        for (auto& v : h->reconstructable) v = c[k++];
        for (auto& v : h->reconstructed) v = c[k++];
    }
}

// ---- matching --------------------------------------------------------------

TrackMetrics match_tracks(const TrackMatchingConfig& config, const std::vector<int64_t>& labels,
                          const std::vector<int64_t>& particle_id, const std::vector<float>& pt,
                          const std::vector<float>& eta) {
    const size_t n = labels.size();
    HEPGNN_CHECK(particle_id.size() == n && pt.size() == n && eta.size() == n,
                 "track matching: sizes mismatch: {} labels, {} particle ids, {} pt, {} eta; one "
                 "of each per hit",
                 n, particle_id.size(), pt.size(), eta.size());
    HEPGNN_CHECK(config.min_hits >= 1, "track matching: min_hits is {}; it must be at least 1",
                 config.min_hits);
    HEPGNN_CHECK(n <= size_t{0x7FFFFFFF}, "track matching: {} hits; at most 2^31-1 supported", n);
    TrackMetrics m(config);
    m.n_hits = static_cast<int64_t>(n);

    // Dense particle indices (first-hit order) with their hit counts.
    std::unordered_map<int64_t, int32_t> index_of;
    index_of.reserve(n / 4 + 16);
    std::vector<int32_t> hit_particle(n, -1);  // -1: noise
    std::vector<int32_t> particle_hits, particle_first_hit;
    for (size_t i = 0; i < n; ++i) {
        if (particle_id[i] == 0) {
            ++m.n_noise_hits;
            continue;
        }
        auto [it, inserted] =
            index_of.emplace(particle_id[i], static_cast<int32_t>(particle_hits.size()));
        if (inserted) {
            particle_hits.push_back(0);
            particle_first_hit.push_back(static_cast<int32_t>(i));
        }
        hit_particle[i] = it->second;
        ++particle_hits[it->second];
    }
    const size_t n_particles = particle_hits.size();

    // Candidate sizes.
    std::vector<int32_t> candidate_hits(n, 0);
    for (size_t i = 0; i < n; ++i) {
        const int64_t c = labels[i];
        HEPGNN_CHECK(c == kUnassigned || (c >= 0 && c < static_cast<int64_t>(n)),
                     "track matching: hit {} has label {}; labels are -1 (unassigned) or "
                     "candidate ids 0..{} (as made by track building)",
                     i, c, static_cast<int64_t>(n) - 1);
        if (c >= 0) ++candidate_hits[c];
    }
    for (int32_t s : candidate_hits) m.n_candidates += s >= config.min_hits;

    // n(c, p) from sorted (candidate, particle + 1) keys; noise is particle 0.
    std::vector<uint64_t> keys;
    keys.reserve(n);
    for (size_t i = 0; i < n; ++i)
        if (labels[i] >= 0 && candidate_hits[labels[i]] >= config.min_hits)
            keys.push_back((static_cast<uint64_t>(labels[i]) << 32) |
                           static_cast<uint64_t>(hit_particle[i] + 1));
    std::sort(keys.begin(), keys.end());

    std::vector<int32_t> majority_candidates(n_particles, 0);  // candidates with p as majority
    std::vector<uint8_t> matched(n_particles, 0);
    for (size_t k = 0; k < keys.size();) {
        size_t end = k;
        while (end < keys.size() && keys[end] == keys[k]) ++end;
        const auto count = static_cast<int64_t>(end - k);
        const auto c = static_cast<int64_t>(keys[k] >> 32);
        const auto p = static_cast<int64_t>(keys[k] & 0xFFFFFFFFu) - 1;
        k = end;
        if (p < 0 || 2 * count <= candidate_hits[c]) continue;
        ++m.n_matched_candidates;
        ++majority_candidates[p];
        if (2 * count > particle_hits[p]) {  // double majority (Note [Track matching])
            matched[p] = 1;
            ++m.n_double_matched;
            m.n_matched_hits += count;
        }
    }
    m.n_fake = m.n_candidates - m.n_matched_candidates;
    for (int32_t k : majority_candidates) m.n_duplicate += std::max(k - 1, 0);

    for (size_t p = 0; p < n_particles; ++p) {
        if (particle_hits[p] < config.min_hits) continue;
        const int32_t first = particle_first_hit[p];
        m.efficiency_vs_pt.fill(pt[first], matched[p]);
        if (!(pt[first] > config.pt_min)) continue;
        ++m.n_reconstructable;
        m.n_reconstructed += matched[p];
        m.efficiency_vs_eta.fill(eta[first], matched[p]);
    }
    return m;
}

// ---- submission ------------------------------------------------------------

std::vector<SubmissionRow> make_submission(const std::vector<int64_t>& hit_id,
                                           const std::vector<int64_t>& labels) {
    HEPGNN_CHECK(hit_id.size() == labels.size(),
                 "submission: sizes mismatch: {} hit ids, {} labels; one of each per hit",
                 hit_id.size(), labels.size());
    std::vector<SubmissionRow> rows(hit_id.size());
    for (size_t i = 0; i < rows.size(); ++i) {
        HEPGNN_CHECK(labels[i] >= kUnassigned,
                     "submission: hit {} (hit_id {}) has label {}; labels are -1 or >= 0", i,
                     hit_id[i], labels[i]);
        rows[i] = {hit_id[i], labels[i] + 1};
    }
    return rows;
}

void write_submission_csv(const std::filesystem::path& path, int64_t event_id,
                          const std::vector<SubmissionRow>& rows) {
    fmt::memory_buffer text;
    text.reserve(24 * rows.size() + 32);
    fmt::format_to(std::back_inserter(text), "event_id,hit_id,track_id\n");
    for (const auto& r : rows)
        fmt::format_to(std::back_inserter(text), "{},{},{}\n", event_id, r.hit_id, r.track_id);
    write_file_atomically(path, std::string_view(text.data(), text.size()), "submission");
}

}  // namespace hepgnn::pipeline
