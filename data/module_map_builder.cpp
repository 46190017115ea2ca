#include "data/module_map_builder.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>
#include <unordered_set>

#include "core/error.hpp"
#include "data/candidate_edges.hpp"
#include "data/trackml_weights.hpp"
#include "data/trajectory.hpp"

namespace hepgnn::data {

ModuleMapBuilder::ModuleMapBuilder(Config config) : m_cfg(std::move(config)) {
    HEPGNN_CHECK(m_cfg.pt_min >= 0, "modulemap: pt_min = {} must be >= 0", m_cfg.pt_min);
    HEPGNN_CHECK(m_cfg.coverage > 0 && m_cfg.coverage <= 1,
                 "modulemap: coverage = {} must be in (0, 1]", m_cfg.coverage);
    HEPGNN_CHECK(m_cfg.margin >= 0, "modulemap: margin = {} must be >= 0", m_cfg.margin);
    HEPGNN_CHECK(m_cfg.min_segments >= 1, "modulemap: min_segments = {} must be >= 1",
                 m_cfg.min_segments);
    HEPGNN_CHECK(!m_cfg.geometry.empty(), "modulemap: the geometry name must not be empty");
    HEPGNN_CHECK(m_cfg.max_segment_loss >= 0 && m_cfg.max_segment_loss < 1,
                 "modulemap: max_segment_loss = {} must be in [0, 1)", m_cfg.max_segment_loss);
    HEPGNN_CHECK(m_cfg.prune_events >= 1, "modulemap: prune_events = {} must be >= 1",
                 m_cfg.prune_events);
}

void ModuleMapBuilder::add_event(const TrackmlEvent& event) {
    HEPGNN_CHECK(!event.particles.empty() || event.hits.empty(),
                 "event {}: no particles table; the module map learns from events with truth "
                 "(hits, truth and particles files)",
                 event.event_id);
    std::vector<HitPoint> points(event.hits.size());
    for (size_t i = 0; i < event.hits.size(); ++i) {
        const Hit& h = event.hits[i];
        points[i] = hit_point(h.x, h.y, h.z);
        LayerStats& s = m_layers[{h.volume_id, h.layer_id}];
        s.r_min = std::min(s.r_min, points[i].r);
        s.r_max = std::max(s.r_max, points[i].r);
        s.z_min = std::min(s.z_min, points[i].z);
        s.z_max = std::max(s.z_max, points[i].z);
        s.n_hits += 1;
    }
    std::unordered_map<int64_t, double> pt;
    pt.reserve(event.particles.size());
    for (const Particle& p : event.particles) pt[p.particle_id] = std::hypot(p.px, p.py);

    CostingEvent costing;
    std::unordered_set<int64_t> learned;
    for (const TrueSegment& seg : true_segments(event)) {
        const auto it = pt.find(seg.particle_id);
        if (it == pt.end() || it->second < m_cfg.pt_min) continue;
        SegmentQuantities q;
        if (!segment_quantities(points[seg.inner], points[seg.outer], q)) continue;
        const Hit& a = event.hits[seg.inner];
        const Hit& b = event.hits[seg.outer];
        auto& values = m_segments[{{a.volume_id, a.layer_id}, {b.volume_id, b.layer_id}}];
        for (int k = 0; k < kNumSegmentQuantities; ++k)
            values[k].push_back(static_cast<float>(q.value[k]));
        learned.insert(seg.particle_id);
        costing.segments.emplace_back(seg.inner, seg.outer);
        // What a segment is worth to the TrackML score: its particle's pT weight.
        costing.value.push_back(static_cast<float>(trackml_pt_weight(it->second)));
        ++m_segment_count;
    }
    m_particles += static_cast<int64_t>(learned.size());
    ++m_events;
    if (m_cfg.max_segment_loss > 0) {
        costing.points = std::move(points);  // not needed here any more
        costing.layer.reserve(event.hits.size());
        for (const Hit& h : event.hits) costing.layer.emplace_back(h.volume_id, h.layer_id);
        if (m_costing.size() < static_cast<size_t>(m_cfg.prune_events)) {
            m_costing.push_back(std::move(costing));
        } else {
            m_costing[m_costing_next] = std::move(costing);
            m_costing_next = (m_costing_next + 1) % m_costing.size();
        }
    }
}

namespace {

// The coverages range tuning tries for a pair, from Config::coverage down
// (Note [Range tuning]); one step further leaves the pair out.
constexpr double kCoverageSteps[] = {0.9995, 0.999, 0.998, 0.995, 0.99, 0.98, 0.95, 0.9};

/// The k-th smallest and largest values, k = floor(tail * n) (with few values
/// the plain minimum and maximum), widened by margin * width on each side.
ValueRange quantile_range(std::vector<float> v, double coverage, double margin) {
    const double tail = (1 - coverage) / 2;
    const auto k = static_cast<size_t>(std::floor(tail * static_cast<double>(v.size())));
    std::nth_element(v.begin(), v.begin() + k, v.end());
    const double lo = v[k];
    std::nth_element(v.begin(), v.end() - 1 - k, v.end());
    const double hi = v[v.size() - 1 - k];
    const double widen = margin * (hi - lo);
    return {lo - widen, hi + widen};
}

}  // namespace

ModuleMap ModuleMapBuilder::finish() const {
    ModuleMap map;
    map.geometry = m_cfg.geometry;
    for (const auto& [key, s] : m_layers) {
        ModuleMap::Layer l;
        l.volume_id = key.first;
        l.layer_id = key.second;
        l.r_min = s.r_min;
        l.r_max = s.r_max;
        l.z_min = s.z_min;
        l.z_max = s.z_max;
        l.n_hits = s.n_hits;
        // A cylinder's hits spread along z, a disk's along r.
        l.kind =
            (s.r_max - s.r_min) < (s.z_max - s.z_min) ? LayerKind::kBarrel : LayerKind::kEndcap;
        map.layers.push_back(l);
    }
    std::vector<double> coverages = {m_cfg.coverage};
    if (m_cfg.max_segment_loss > 0)
        for (double c : kCoverageSteps)
            if (c < m_cfg.coverage) coverages.push_back(c);
    // ranges[pair][step]: the pair's ranges at coverages[step].
    std::vector<std::vector<std::array<ValueRange, kNumSegmentQuantities>>> ranges;
    for (const auto& [key, values] : m_segments) {
        const auto n = static_cast<int64_t>(values[0].size());
        if (n < m_cfg.min_segments) continue;
        ModuleMap::Pair pair;
        pair.inner = map.layer_index(key.first.first, key.first.second);
        pair.outer = map.layer_index(key.second.first, key.second.second);
        pair.n_segments = n;
        auto& steps = ranges.emplace_back(coverages.size());
        for (size_t c = 0; c < coverages.size(); ++c)
            for (int q = 0; q < kNumSegmentQuantities; ++q)
                steps[c][q] = quantile_range(values[q], coverages[c], m_cfg.margin);
        for (int q = 0; q < kNumSegmentQuantities; ++q) pair.range[q] = steps[0][q];
        map.pairs.push_back(pair);
    }
    map.provenance.n_events = m_events;
    map.provenance.n_particles = m_particles;
    map.provenance.n_segments = m_segment_count;
    map.provenance.pt_min = m_cfg.pt_min;
    map.provenance.coverage = m_cfg.coverage;
    map.provenance.margin = m_cfg.margin;
    map.provenance.max_segment_loss = m_cfg.max_segment_loss;
    if (m_cfg.max_segment_loss > 0 && !map.pairs.empty() && !m_costing.empty())
        tune_ranges(map, ranges);
    map.validate(fmt::format("module map learned from {} events", m_events));
    return map;
}

// Note [Range tuning]
// A pair's cut ranges trade true segments against candidate edges, and the
// trade differs a lot between pairs. The tails of the innermost pairs hold
// secondaries from displaced vertices, whose phi slope and z0 are wide: the
// 0.25% tails of the first pixel pair widen its phi-slope range tenfold. Skip
// pairs (a particle left no hit on the layer between: an inefficiency) hold
// few segments, but their search windows are several times an adjacent
// pair's: measured on 10,000-particle events, skip pairs of the innermost
// layers held 0.3% of the true segments and 30% of the edges.
// So, after learning, each pair's candidate edges and the true segments they
// keep are counted on the last prune_events events, at every coverage of
// kCoverageSteps from Config::coverage down, and with the pair left out. A
// segment counts with its particle's TrackML pT weight (0.2 below 0.5 GeV up
// to 1 at 3 GeV), what its hits are worth to the score. Greedily, the move of
// a pair to a narrower step (or out) that saves the most edges per weight lost
// is taken, while the weight lost stays within max_segment_loss of that kept
// at the widest ranges. A pair's edges depend only on its own ranges, so the
// counts of the steps combine. The events costed are training events, so the
// loss measured there is a little lower than on unseen events.
void ModuleMapBuilder::tune_ranges(
    ModuleMap& map,
    const std::vector<std::vector<std::array<ValueRange, kNumSegmentQuantities>>>& ranges) const {
    const size_t n_pairs = map.pairs.size();
    const size_t n_steps = ranges.front().size();
    // edges[p][s], kept[p][s]; step n_steps: left out (0, 0).
    std::vector<std::vector<int64_t>> edges(n_pairs, std::vector<int64_t>(n_steps + 1, 0));
    std::vector<std::vector<double>> kept(n_pairs, std::vector<double>(n_steps + 1, 0.0));
    // Per costing event, what no step changes: map layer of each hit, value of each true segment.
    std::vector<std::vector<int32_t>> layers(m_costing.size());
    std::vector<std::unordered_map<int64_t, float>> values(m_costing.size());
    for (size_t k = 0; k < m_costing.size(); ++k) {
        const CostingEvent& ev = m_costing[k];
        layers[k].resize(ev.layer.size());
        for (size_t i = 0; i < ev.layer.size(); ++i)
            layers[k][i] = map.layer_index(ev.layer[i].first, ev.layer[i].second);
        values[k].reserve(ev.segments.size() * 2);
        for (size_t j = 0; j < ev.segments.size(); ++j)
            values[k][(int64_t{ev.segments[j].first} << 32) | uint32_t(ev.segments[j].second)] =
                ev.value[j];
    }
    ModuleMap trial = map;
    for (size_t s = 0; s < n_steps; ++s) {
        for (size_t p = 0; p < n_pairs; ++p)
            for (int q = 0; q < kNumSegmentQuantities; ++q)
                trial.pairs[p].range[q] = ranges[p][s][q];
        for (size_t k = 0; k < m_costing.size(); ++k) {
            for (const CandidateEdge& e :
                 find_candidate_edges(trial, m_costing[k].points, layers[k])) {
                edges[e.pair][s] += 1;
                const auto it = values[k].find((int64_t{e.inner} << 32) | uint32_t(e.outer));
                if (it != values[k].end()) kept[e.pair][s] += it->second;
            }
        }
    }
    double total_kept = 0;
    for (size_t p = 0; p < n_pairs; ++p) total_kept += kept[p][0];
    const double budget = m_cfg.max_segment_loss * total_kept;

    std::vector<size_t> step(n_pairs, 0);
    double lost = 0;
    for (;;) {
        // The affordable move of any pair to any narrower step (or out) with
        // the most edges saved per segment lost; one that loses nothing comes
        // first. Moves may jump steps: leaving a skip pair out saves far more
        // per segment than narrowing it, though the first narrowing saves little.
        size_t best = n_pairs, best_to = 0;
        double best_saved = 0, best_lost = 0;
        for (size_t p = 0; p < n_pairs; ++p) {
            for (size_t t = step[p] + 1; t <= n_steps; ++t) {
                const double saved = static_cast<double>(edges[p][step[p]] - edges[p][t]);
                const double loss = std::max(0.0, kept[p][step[p]] - kept[p][t]);
                if (saved <= 0 || lost + loss > budget) continue;
                // saved / loss > best_saved / best_lost (loss 0: infinite).
                const bool better = best == n_pairs || saved * best_lost > best_saved * loss;
                if (better) {
                    best = p;
                    best_to = t;
                    best_saved = saved;
                    best_lost = loss;
                }
            }
        }
        if (best == n_pairs) break;
        lost += best_lost;
        step[best] = best_to;
    }

    std::vector<ModuleMap::Pair> pairs;
    int64_t tightened = 0;
    for (size_t p = 0; p < n_pairs; ++p) {
        if (step[p] == n_steps) continue;
        ModuleMap::Pair pair = map.pairs[p];
        for (int q = 0; q < kNumSegmentQuantities; ++q) pair.range[q] = ranges[p][step[p]][q];
        tightened += step[p] > 0;
        pairs.push_back(pair);
    }
    map.provenance.n_pruned_pairs = static_cast<int64_t>(n_pairs - pairs.size());
    map.provenance.n_tightened_pairs = tightened;
    map.provenance.pruned_share = total_kept > 0 ? lost / total_kept : 0.0;
    map.pairs = std::move(pairs);
}

}  // namespace hepgnn::data
