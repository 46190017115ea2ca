#include "data/candidate_edges.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace hepgnn::data {

// Note [Binned edge search]
// Each layer's hits are binned in phi and in the coordinate along the layer
// (z on a barrel cylinder, r on an endcap disk), with cells of about
// kHitsPerCell hits, roughly square in mm. For an inner hit a and a pair
// (A -> B), the pair's ranges bound where b can lie on B:
//  * r_b: B's radial extent; on a disk, also r_b = r_a (z_b - z0) / (z_a - z0)
//    over z0 in its range and z_b across the disk;
//  * z_b on a cylinder: z0 + (z_a - z0) r_b / r_a over z0 and r_b, and
//    r_b sinh(eta_a + deta) over deta and r_b;
//  * phi_b - phi_a: the dphi range, and phi_slope * (r_b - r_a) over both.
// Only the cells of that window are visited, and every hit found there is
// tested against all four ranges exactly. Since the window's area does not
// depend on the number of hits, the work per hit is constant at fixed density.

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kHitsPerCell = 2.0;
constexpr int kMaxBins = 4096;

struct Interval {
    double lo = 1e300, hi = -1e300;
    void add(double v) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
    }
    void clip(double a, double b) {
        lo = std::max(lo, a);
        hi = std::min(hi, b);
    }
    bool empty() const { return !(lo <= hi); }
};

/// One layer's hits in cells (phi-major, so a long-coordinate range inside one
/// phi bin is one contiguous run of cells).
struct LayerGrid {
    bool barrel = true;
    int n_phi = 1, n_long = 1;
    double long_min = 0, long_width = 1;  // long = z (barrel) or r (endcap)
    std::vector<int32_t> cell_start;      // n_phi * n_long + 1
    std::vector<int32_t> hit;             // hit indices, by cell
    std::vector<HitPoint> point;          // their points, same order

    int phi_bin(double phi) const {
        const double f = (phi + kPi) / (2 * kPi) * n_phi;
        return static_cast<int>(std::floor(f));  // may fall outside [0, n_phi): wrapped by caller
    }
    int long_bin(double v) const {
        const double f = std::floor((v - long_min) / long_width);
        if (!(f >= 0)) return 0;
        return f >= n_long ? n_long - 1 : static_cast<int>(f);
    }
};

LayerGrid make_grid(const ModuleMap::Layer& layer, const std::vector<HitPoint>& points,
                    const std::vector<int32_t>& members) {
    LayerGrid g;
    g.barrel = layer.kind == LayerKind::kBarrel;
    const double lmin = g.barrel ? layer.z_min : layer.r_min;
    const double lmax = g.barrel ? layer.z_max : layer.r_max;
    const double extent = std::max(lmax - lmin, 1.0);
    const double radius = 0.5 * (layer.r_min + layer.r_max);
    const double circumference = std::max(2 * kPi * radius, 1.0);
    const double cells = std::max(1.0, static_cast<double>(members.size()) / kHitsPerCell);
    // n_phi * n_long = cells with cells about square: circumference / n_phi = extent / n_long.
    g.n_phi = std::clamp(static_cast<int>(std::round(std::sqrt(cells * circumference / extent))), 1,
                         kMaxBins);
    g.n_long = std::clamp(static_cast<int>(std::round(cells / g.n_phi)), 1, kMaxBins);
    g.long_min = lmin;
    g.long_width = extent / g.n_long;

    const size_t n_cells = static_cast<size_t>(g.n_phi) * static_cast<size_t>(g.n_long);
    std::vector<int32_t> cell_of(members.size());
    g.cell_start.assign(n_cells + 1, 0);
    for (size_t k = 0; k < members.size(); ++k) {
        const HitPoint& p = points[members[k]];
        int ip = g.phi_bin(p.phi);
        ip = ((ip % g.n_phi) + g.n_phi) % g.n_phi;
        const int il = g.long_bin(g.barrel ? p.z : p.r);
        cell_of[k] = ip * g.n_long + il;
        ++g.cell_start[cell_of[k] + 1];
    }
    for (size_t c = 0; c < n_cells; ++c) g.cell_start[c + 1] += g.cell_start[c];
    g.hit.resize(members.size());
    g.point.resize(members.size());
    std::vector<int32_t> fill(g.cell_start.begin(), g.cell_start.end() - 1);
    for (size_t k = 0; k < members.size(); ++k) {  // stable: members' order inside a cell
        const int32_t slot = fill[cell_of[k]]++;
        g.hit[slot] = members[k];
        g.point[slot] = points[members[k]];
    }
    return g;
}

bool passes(const ModuleMap::Pair& pair, const HitPoint& a, const HitPoint& b) {
    SegmentQuantities q;
    if (!segment_quantities(a, b, q)) return false;
    for (int k = 0; k < kNumSegmentQuantities; ++k)
        if (!pair.range[k].contains(q.value[k])) return false;
    return true;
}

/// Where b can lie on the outer layer, for inner hit a (Note [Binned edge search]).
struct Window {
    Interval dphi, along;  // along: z (barrel) or r (endcap) of b
};

bool search_window(const ModuleMap::Pair& pair, const ModuleMap::Layer& outer, const HitPoint& a,
                   Window& w) {
    const ValueRange& z0 = pair.range[kZ0];
    const ValueRange& slope = pair.range[kPhiSlope];
    const ValueRange& deta = pair.range[kDeta];
    // The outer layer's extent, with room for hits of unseen events: on the
    // surface coordinate as far as graph building accepts hits, along the
    // layer without bound (the grid clamps such hits into its edge cells).
    const double pad = kLayerSurfaceTolerance;
    const bool barrel = outer.kind == LayerKind::kBarrel;
    Interval rb{barrel ? outer.r_min - pad : 0.0, barrel ? outer.r_max + pad : 1e300};
    if (!barrel) {
        const double d_lo = a.z - z0.lo, d_hi = a.z - z0.hi;
        if (d_lo * d_hi > 0) {  // z0 range does not contain z_a: r_b is bounded
            Interval r;
            for (const double z0v : {z0.lo, z0.hi})
                for (const double zb : {outer.z_min - pad, outer.z_max + pad})
                    r.add(a.r * (zb - z0v) / (a.z - z0v));
            rb.clip(r.lo, r.hi);
        }
    }
    Interval dr{rb.lo - a.r, rb.hi - a.r};
    dr.clip(kMinSegmentDr, 1e300);
    if (dr.empty()) return false;
    rb = {a.r + dr.lo, a.r + dr.hi};

    w.dphi = {pair.range[kDphi].lo, pair.range[kDphi].hi};
    Interval from_slope;
    for (const double s : {slope.lo, slope.hi})
        for (const double d : {dr.lo, dr.hi}) from_slope.add(s * d);
    w.dphi.clip(from_slope.lo, from_slope.hi);
    if (w.dphi.empty()) return false;

    if (barrel) {
        Interval z, z_eta;
        for (const double r : {rb.lo, rb.hi}) {
            for (const double z0v : {z0.lo, z0.hi}) z.add(z0v + (a.z - z0v) * r / a.r);
            for (const double e : {a.eta + deta.lo, a.eta + deta.hi}) z_eta.add(r * std::sinh(e));
        }
        z.clip(z_eta.lo, z_eta.hi);
        w.along = z;
    } else {
        w.along = rb;
    }
    return !w.along.empty();
}

}  // namespace

std::vector<CandidateEdge> find_candidate_edges(const ModuleMap& map,
                                                const std::vector<HitPoint>& points,
                                                const std::vector<int32_t>& layer) {
    HEPGNN_INTERNAL_CHECK(points.size() == layer.size(), "{} points but {} layer indices",
                          points.size(), layer.size());
    const auto n_layers = static_cast<int32_t>(map.layers.size());
    std::vector<std::vector<int32_t>> members(n_layers);
    for (int32_t i = 0; i < static_cast<int32_t>(layer.size()); ++i) {
        HEPGNN_INTERNAL_CHECK(layer[i] >= 0 && layer[i] < n_layers, "hit {} has layer index {}", i,
                              layer[i]);
        members[layer[i]].push_back(i);
    }
    std::vector<LayerGrid> grids;
    grids.reserve(n_layers);
    for (int32_t l = 0; l < n_layers; ++l)
        grids.push_back(make_grid(map.layers[l], points, members[l]));

    std::vector<CandidateEdge> edges;
    edges.reserve(points.size() * 4);
    for (int32_t pi = 0; pi < static_cast<int32_t>(map.pairs.size()); ++pi) {
        const ModuleMap::Pair& pair = map.pairs[pi];
        const LayerGrid& in = grids[pair.inner];
        const LayerGrid& out = grids[pair.outer];
        if (in.hit.empty() || out.hit.empty()) continue;
        const ModuleMap::Layer& outer = map.layers[pair.outer];
        for (size_t k = 0; k < in.hit.size(); ++k) {
            const HitPoint& a = in.point[k];
            Window w;
            if (!search_window(pair, outer, a, w)) continue;
            const int p0 = out.phi_bin(a.phi + w.dphi.lo);
            int p1 = out.phi_bin(a.phi + w.dphi.hi);
            if (p1 - p0 + 1 > out.n_phi) p1 = p0 + out.n_phi - 1;  // the whole circle once
            const int l0 = out.long_bin(w.along.lo), l1 = out.long_bin(w.along.hi);
            for (int ip = p0; ip <= p1; ++ip) {
                const int wrapped = ((ip % out.n_phi) + out.n_phi) % out.n_phi;
                const int32_t begin = out.cell_start[wrapped * out.n_long + l0];
                const int32_t end = out.cell_start[wrapped * out.n_long + l1 + 1];
                for (int32_t s = begin; s < end; ++s)
                    if (passes(pair, a, out.point[s])) edges.push_back({in.hit[k], out.hit[s], pi});
            }
        }
    }
    return edges;
}

}  // namespace hepgnn::data
