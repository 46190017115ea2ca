#include "data/graph_builder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "core/error.hpp"
#include "data/candidate_edges.hpp"
#include "data/detector_geometry.hpp"
#include "data/segment.hpp"
#include "data/trajectory.hpp"

namespace hepgnn::data {

// Note [Section borders]: HEP.TrkX splits the hits of an event into phi/eta
// sections and builds edges inside each, which loses every true segment that
// crosses a border. We build the candidate edges of the whole event first and
// give each edge to the section of its inner hit; that section's graph then
// also holds the outer hit (a "halo" node, possibly owned by a neighbour).
// Each edge is in exactly one graph, so no true edge is lost and none is
// counted twice in metrics.

namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr int kBarrelLayers = 10;
}  // namespace

struct GraphBuilder::SelectedHit {
    int64_t hit_id;
    int64_t particle_id;
    float pt;
    int layer;  // barrel: 0..9; full: index into the module map's layers
    double r, phi, z;
    int section;
    int32_t volume_id, layer_id;
    int32_t step;  // along the particle's trajectory (Note [Trajectory steps]); -1 unknown
};

FeatureInfo GraphBuilder::feature_info(const Config& config) {
    const auto& s = config.feature_scale;
    if (s.empty())
        return FeatureInfo{{"r", "phi", "z"},
                           {1000.0f, static_cast<float>(kPi / config.n_phi_sections), 1000.0f}};
    return FeatureInfo{
        {"r", "phi", "z"},
        {static_cast<float>(s[0]), static_cast<float>(s[1]), static_cast<float>(s[2])}};
}

GraphBuilder::GraphBuilder(Config config) : config_(std::move(config)) {
    HEPGNN_CHECK(config_.n_phi_sections >= 1, "n_phi_sections must be >= 1 (got {})",
                 config_.n_phi_sections);
    HEPGNN_CHECK(config_.n_eta_sections >= 1, "n_eta_sections must be >= 1 (got {})",
                 config_.n_eta_sections);
    HEPGNN_CHECK(config_.eta_range[0] < config_.eta_range[1],
                 "eta_range must be [low, high] with low < high (got [{}, {}])",
                 config_.eta_range[0], config_.eta_range[1]);
    HEPGNN_CHECK(config_.phi_slope_max > 0, "phi_slope_max must be > 0 (got {})",
                 config_.phi_slope_max);
    HEPGNN_CHECK(config_.z0_max > 0, "z0_max must be > 0 (got {})", config_.z0_max);
    HEPGNN_CHECK(config_.pt_min >= 0, "pt_min must be >= 0 (got {})", config_.pt_min);
    HEPGNN_CHECK(config_.feature_scale.empty() ||
                     (config_.feature_scale.size() == 3 &&
                      std::all_of(config_.feature_scale.begin(), config_.feature_scale.end(),
                                  [](double v) { return v > 0; })),
                 "feature_scale must be empty or three positive numbers [r, phi, z]");
    HEPGNN_CHECK(config_.detector != DetectorMode::kFull || config_.module_map != nullptr,
                 "detector: full needs a module map: set 'module_map' to the file 'hepgnn "
                 "modulemap' wrote");
}

std::vector<EventGraph> GraphBuilder::build(const TrackmlEvent& event) const {
    HEPGNN_CHECK(event.truth.size() == event.hits.size(),
                 "event {}: {} truth rows for {} hits; the truth file does not match the hits",
                 event.event_id, event.truth.size(), event.hits.size());
    for (size_t i = 0; i < event.hits.size(); ++i)
        HEPGNN_CHECK(event.truth[i].hit_id == event.hits[i].hit_id,
                     "event {}: truth row {} has hit_id {} but hits row {} has {}", event.event_id,
                     i, event.truth[i].hit_id, i, event.hits[i].hit_id);
    if (config_.detector == DetectorMode::kFull)
        return build_full(event.event_id, event.hits, &event);

    // HEP.TrkX takes a hit's pT from its particle's initial momentum.
    std::unordered_map<int64_t, float> particle_pt;
    particle_pt.reserve(event.particles.size());
    for (const auto& p : event.particles) particle_pt[p.particle_id] = std::hypot(p.px, p.py);

    std::vector<SelectedHit> selected;
    selected.reserve(event.hits.size() / 2);
    for (size_t i = 0; i < event.hits.size(); ++i) {
        const Hit& h = event.hits[i];
        const TruthHit& t = event.truth[i];
        const int layer = barrel_layer_index(h.volume_id, h.layer_id);
        if (layer < 0) continue;
        float pt = 0.0f;
        if (t.particle_id != 0) {
            auto it = particle_pt.find(t.particle_id);
            pt = it != particle_pt.end() ? it->second : std::hypot(t.tpx, t.tpy);
        }
        if (config_.pt_min > 0 && pt < config_.pt_min) continue;
        selected.push_back({h.hit_id, t.particle_id, pt, layer, std::hypot(h.x, h.y),
                            std::atan2(h.y, h.x), h.z, 0, h.volume_id, h.layer_id, -1});
    }

    // One hit per (particle, layer): keep the innermost, as HEP.TrkX does, so a
    // true segment is unambiguous.
    std::sort(selected.begin(), selected.end(), [](const SelectedHit& a, const SelectedHit& b) {
        if (a.particle_id != b.particle_id) return a.particle_id < b.particle_id;
        if (a.layer != b.layer) return a.layer < b.layer;
        return a.r < b.r;
    });
    std::vector<SelectedHit> unique;
    unique.reserve(selected.size());
    for (size_t i = 0; i < selected.size(); ++i) {
        const auto& h = selected[i];
        if (h.particle_id != 0 && !unique.empty() && unique.back().particle_id == h.particle_id &&
            unique.back().layer == h.layer)
            continue;
        unique.push_back(h);
    }
    return build_barrel(event.event_id, std::move(unique));
}

std::vector<EventGraph> GraphBuilder::build_from_hits(int64_t event_id,
                                                      const std::vector<Hit>& hits) const {
    if (config_.detector == DetectorMode::kFull) return build_full(event_id, hits, nullptr);
    std::vector<SelectedHit> selected;
    selected.reserve(hits.size() / 2);
    for (const Hit& h : hits) {
        const int layer = barrel_layer_index(h.volume_id, h.layer_id);
        if (layer < 0) continue;
        selected.push_back({h.hit_id, 0, 0.0f, layer, std::hypot(h.x, h.y), std::atan2(h.y, h.x),
                            h.z, 0, h.volume_id, h.layer_id, -1});
    }
    return build_barrel(event_id, std::move(selected));
}

std::vector<EventGraph> GraphBuilder::build_full(int64_t event_id, const std::vector<Hit>& hits,
                                                 const TrackmlEvent* truth) const {
    const ModuleMap& map = *config_.module_map;
    const std::string& source = config_.module_map_source;
    std::vector<int32_t> step;
    std::unordered_map<int64_t, float> particle_pt;
    if (truth != nullptr) {
        step = trajectory_steps(*truth);
        particle_pt.reserve(truth->particles.size());
        for (const auto& p : truth->particles) particle_pt[p.particle_id] = std::hypot(p.px, p.py);
    }
    // A small table from TrackML ids to map layers: ids are small integers.
    std::unordered_map<int64_t, int32_t> layer_of;
    for (size_t l = 0; l < map.layers.size(); ++l)
        layer_of[(int64_t{map.layers[l].volume_id} << 32) | uint32_t(map.layers[l].layer_id)] =
            static_cast<int32_t>(l);

    std::vector<SelectedHit> selected;
    selected.reserve(hits.size());
    for (size_t i = 0; i < hits.size(); ++i) {
        const Hit& h = hits[i];
        const auto it = layer_of.find((int64_t{h.volume_id} << 32) | uint32_t(h.layer_id));
        HEPGNN_CHECK(it != layer_of.end(),
                     "event {}: hit {} is on volume {} layer {}, which module map '{}' (geometry "
                     "'{}') does not know; build a map from events of this detector with 'hepgnn "
                     "modulemap'",
                     event_id, h.hit_id, h.volume_id, h.layer_id, source, map.geometry);
        const ModuleMap::Layer& layer = map.layers[it->second];
        const HitPoint p = hit_point(h.x, h.y, h.z);
        const bool barrel = layer.kind == LayerKind::kBarrel;
        const double surface = barrel ? p.r : p.z;
        const double lo = barrel ? layer.r_min : layer.z_min,
                     hi = barrel ? layer.r_max : layer.z_max;
        HEPGNN_CHECK(
            surface >= lo - kLayerSurfaceTolerance && surface <= hi + kLayerSurfaceTolerance,
            "event {}: hit {} (volume {} layer {}) lies at {} = {:.1f} mm, off that layer "
            "as module map '{}' recorded it ({} in [{:.1f}, {:.1f}] mm): the map was "
            "learned on another detector geometry ('{}'); build one from this "
            "detector's events with 'hepgnn modulemap'",
            event_id, h.hit_id, h.volume_id, h.layer_id, barrel ? "r" : "z", surface, source,
            barrel ? "r" : "z", lo, hi, map.geometry);
        int64_t pid = 0;
        float pt = 0.0f;
        int32_t s = -1;
        if (truth != nullptr) {
            pid = truth->truth[i].particle_id;
            s = step[i];
            if (pid != 0) {
                const auto pit = particle_pt.find(pid);
                const TruthHit& t = truth->truth[i];
                pt = pit != particle_pt.end() ? pit->second : std::hypot(t.tpx, t.tpy);
            }
            if (config_.pt_min > 0 && pt < config_.pt_min) continue;  // training studies only
        }
        selected.push_back(
            {h.hit_id, pid, pt, it->second, p.r, p.phi, p.z, 0, h.volume_id, h.layer_id, s});
    }
    assign_sections(selected);

    std::vector<HitPoint> points(selected.size());
    std::vector<int32_t> layer(selected.size());
    for (size_t i = 0; i < selected.size(); ++i) {
        const auto& h = selected[i];
        points[i] = {h.r, h.phi, h.z, std::asinh(h.z / h.r)};
        layer[i] = h.layer;
    }
    const auto found =
        filter_by_triplets(config_.triplets, find_candidate_edges(map, points, layer), points);
    std::vector<Edge> edges(found.size());
    for (size_t e = 0; e < found.size(); ++e) edges[e] = {found[e].inner, found[e].outer};
    return assemble(event_id, selected, edges);
}

void GraphBuilder::assign_sections(std::vector<SelectedHit>& hits) const {
    const int n_phi = config_.n_phi_sections, n_eta = config_.n_eta_sections;
    const double eta_lo = config_.eta_range[0], eta_hi = config_.eta_range[1];
    const double phi_width = 2 * kPi / n_phi, eta_width = (eta_hi - eta_lo) / n_eta;

    // Section of every hit; hits outside the eta range are dropped.
    std::vector<SelectedHit> kept;
    kept.reserve(hits.size());
    for (auto& h : hits) {
        const double eta = std::asinh(h.z / h.r);
        if (!(eta >= eta_lo && eta <= eta_hi)) continue;
        const int iphi = std::clamp(static_cast<int>((h.phi + kPi) / phi_width), 0, n_phi - 1);
        const int ieta = std::clamp(static_cast<int>((eta - eta_lo) / eta_width), 0, n_eta - 1);
        h.section = ieta * n_phi + iphi;
        kept.push_back(h);
    }
    // Nodes numbered by (layer, phi): neighbouring hits get neighbouring
    // indices, which keeps gathers local and index columns compressible.
    std::sort(kept.begin(), kept.end(), [](const SelectedHit& a, const SelectedHit& b) {
        if (a.layer != b.layer) return a.layer < b.layer;
        if (a.phi != b.phi) return a.phi < b.phi;
        return a.hit_id < b.hit_id;
    });
    hits.swap(kept);
}

std::vector<EventGraph> GraphBuilder::build_barrel(int64_t event_id,
                                                   std::vector<SelectedHit> hits) const {
    assign_sections(hits);
    return assemble(event_id, hits, barrel_edges(hits));
}

std::vector<GraphBuilder::Edge> GraphBuilder::barrel_edges(
    const std::vector<SelectedHit>& hits) const {
    // Per layer, hit indices sorted by phi: the window search below looks only
    // at the phi range a segment passing the slope cut can reach.
    std::vector<std::vector<int32_t>> by_layer(kBarrelLayers);
    for (int32_t i = 0; i < static_cast<int32_t>(hits.size()); ++i)
        by_layer[hits[i].layer].push_back(i);
    std::vector<double> r_min(kBarrelLayers, std::numeric_limits<double>::max());
    std::vector<double> r_max(kBarrelLayers, 0.0);
    for (int l = 0; l < kBarrelLayers; ++l) {
        auto& idx = by_layer[l];
        std::sort(idx.begin(), idx.end(), [&](int32_t a, int32_t b) {
            return hits[a].phi < hits[b].phi || (hits[a].phi == hits[b].phi && a < b);
        });
        for (int32_t i : idx) {
            r_min[l] = std::min(r_min[l], hits[i].r);
            r_max[l] = std::max(r_max[l], hits[i].r);
        }
    }

    // Note [Uncrossed layers]: a barrel-only graph of adjacent layers cuts a
    // track in two where it passes beyond the end of one barrel layer but
    // still hits the next one: in TrackML, particles at 1.1 < |eta| < 1.5 miss
    // the last pixel layer (|z| < 491 mm) and hit the strips. Such tracks need
    // a segment from layer i to i+2. It is added only when the straight
    // segment crosses r(i+1) outside that layer's z extent, so no hit could
    // exist in between: few extra edges, and no shortcut around a hit.
    static const std::vector<DetectorLayer> barrel = [] {
        auto layers = DetectorGeometry::trackml_like().layers;
        layers.resize(kBarrelLayers);
        return layers;
    }();
    std::vector<Edge> edges;
    std::vector<double> outer_phi;
    const int max_gap = config_.skip_uncrossed_layers ? 2 : 1;
    for (int gap = 1; gap <= max_gap; ++gap) {
        for (int l = 0; l + gap < kBarrelLayers; ++l) {
            const auto& in = by_layer[l];
            const auto& out = by_layer[l + gap];
            if (in.empty() || out.empty()) continue;
            outer_phi.resize(out.size());
            for (size_t k = 0; k < out.size(); ++k) outer_phi[k] = hits[out[k]].phi;
            const double dr_max = r_max[l + gap] - r_min[l];
            if (dr_max <= 0) continue;
            const double window = std::min(kPi, config_.phi_slope_max * dr_max);
            const DetectorLayer& skipped = barrel[l + 1];
            const auto consider = [&](int32_t a, size_t k) {
                const int32_t b = out[k];
                const double dr = hits[b].r - hits[a].r;
                if (dr <= 0) return;
                const double dphi = wrap_phi(hits[b].phi - hits[a].phi);
                if (std::abs(dphi / dr) >= config_.phi_slope_max) return;
                const double slope = (hits[b].z - hits[a].z) / dr;
                const double z0 = hits[a].z - hits[a].r * slope;
                if (std::abs(z0) >= config_.z0_max) return;
                if (gap == 2) {
                    const double z_mid = hits[a].z + slope * (skipped.position - hits[a].r);
                    if (z_mid >= skipped.long_min && z_mid <= skipped.long_max) return;
                }
                edges.push_back({a, b});
            };
            // Scan [phi - w, phi + w], split where it wraps around +-pi.
            const auto scan = [&](int32_t a, double lo, double hi) {
                auto k =
                    std::lower_bound(outer_phi.begin(), outer_phi.end(), lo) - outer_phi.begin();
                for (; k < static_cast<long>(out.size()) && outer_phi[k] <= hi; ++k) consider(a, k);
            };
            for (int32_t a : in) {
                const double lo = hits[a].phi - window, hi = hits[a].phi + window;
                scan(a, std::max(lo, -kPi), std::min(hi, kPi));
                if (lo < -kPi) scan(a, lo + 2 * kPi, kPi);
                if (hi > kPi) scan(a, -kPi, hi - 2 * kPi);
            }
        }
    }

    return edges;
}

std::vector<EventGraph> GraphBuilder::assemble(int64_t event_id,
                                               const std::vector<SelectedHit>& hits,
                                               const std::vector<Edge>& edges) const {
    const int n_phi = config_.n_phi_sections, n_eta = config_.n_eta_sections;
    const double phi_width = 2 * kPi / n_phi;
    const bool full = config_.detector == DetectorMode::kFull;
    // Assemble one graph per section (Note [Section borders]).
    const int n_sections = n_phi * n_eta;
    std::vector<std::vector<int32_t>> section_edges(n_sections);
    for (int32_t e = 0; e < static_cast<int32_t>(edges.size()); ++e)
        section_edges[hits[edges[e].inner].section].push_back(e);
    std::vector<std::vector<int32_t>> section_hits(n_sections);
    for (int32_t i = 0; i < static_cast<int32_t>(hits.size()); ++i)
        section_hits[hits[i].section].push_back(i);

    const FeatureInfo features = feature_info(config_);
    std::vector<EventGraph> graphs;
    std::vector<int32_t> local(hits.size(), -1);
    for (int s = 0; s < n_sections; ++s) {
        if (section_hits[s].empty() && section_edges[s].empty()) continue;
        std::vector<int32_t> nodes = section_hits[s];
        for (int32_t e : section_edges[s]) {
            const int32_t b = edges[e].outer;
            if (hits[b].section != s && local[b] < 0) {
                local[b] = 0;  // mark: halo node added once
                nodes.push_back(b);
            }
        }
        for (int32_t k = 0; k < static_cast<int32_t>(nodes.size()); ++k) local[nodes[k]] = k;

        EventGraph g;
        g.event_id = event_id;
        g.section_id = s;
        g.n_nodes = static_cast<int64_t>(nodes.size());
        g.n_features = 3;
        g.x.reserve(nodes.size() * 3);
        const double phi_center = -kPi + ((s % n_phi) + 0.5) * phi_width;
        for (int32_t i : nodes) {
            const auto& h = hits[i];
            g.x.push_back(static_cast<float>(h.r / features.scale[0]));
            g.x.push_back(static_cast<float>(wrap_phi(h.phi - phi_center) / features.scale[1]));
            g.x.push_back(static_cast<float>(h.z / features.scale[2]));
            g.hit_id.push_back(h.hit_id);
            g.particle_id.push_back(h.particle_id);
            g.pt.push_back(h.pt);
            g.volume_id.push_back(h.volume_id);
            g.layer_id.push_back(h.layer_id);
        }
        for (int32_t e : section_edges[s]) {
            const auto& edge = edges[e];
            g.senders.push_back(local[edge.inner]);
            g.receivers.push_back(local[edge.outer]);
            const SelectedHit& a = hits[edge.inner];
            const SelectedHit& b = hits[edge.outer];
            // Full: consecutive steps of one particle (Note [Trajectory steps]);
            // barrel: one hit per particle and layer, so the same particle.
            const bool same = a.particle_id != 0 && a.particle_id == b.particle_id;
            g.y.push_back(same && (!full || b.step == a.step + 1) ? 1 : 0);
        }
        for (int32_t i : nodes) local[i] = -1;
        graphs.push_back(std::move(g));
    }
    return graphs;
}

}  // namespace hepgnn::data
