#include "data/triplet_filter.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace hepgnn::data {

// Note [Triplet filter]: a layer-pair map's ranges must admit every low-pT
// segment, so most candidate edges of a low-pT map are fakes. A true segment
// of a track with three or more hits is part of a triplet a -> b -> c of true
// segments, and a primary particle's triplet lies on a helix from the beam
// line: b is near the circle through the origin, a and c (transverse plane),
// and near the line through a and c in (arc length, z), up to resolution and
// multiple scattering, which grows as 1/pT, i.e. with the circle's curvature.
// A random continuation rarely is. So an edge is kept when at least one
// triplet through it passes, as GNN4ITk's module map keeps only edges of
// triplets that pass its cuts; here the cuts are two formulas, not ranges per
// module triplet. Measured on the triplets of a 10k-particle event with a map
// down to 0.1 GeV (the defaults): 99.4% of true triplets pass and 5% of the
// others (true q99 of the xy residual 3.4 mm below 0.2 GeV, 1.0 mm above
// 1 GeV; of the sz residual 6.1 and 2.1 mm). Since an edge needs one passing
// triplet, a third of the edges goes (README). Secondaries and loopers past
// half a turn fit worse and can lose edges. Cost: for each middle hit, its
// in-edges times its out-edges, cut short at the first passing triplet.

namespace {

struct Xyz {
    double x, y, z, r;
};

// The triplet test of Note [Triplet filter] for a -> b -> c.
bool on_one_helix(const TripletFilterConfig& config, const Xyz& a, const Xyz& b, const Xyz& c) {
    // Circle through the origin, a and c: centre u (|u| = its radius).
    const double d = 2 * (a.x * c.y - a.y * c.x);
    double curvature = 0, xy = 0;
    double sa = a.r, sb = b.r, sc = c.r;  // arc lengths from the origin (straight line)
    if (std::fabs(d) > 1e-9 * a.r * c.r) {
        const double a2 = a.r * a.r, c2 = c.r * c.r;
        const double ux = (c.y * a2 - a.y * c2) / d, uy = (a.x * c2 - c.x * a2) / d;
        const double radius = std::hypot(ux, uy);
        curvature = 1.0 / radius;
        // |b - u| - R without cancelling R against |b - u|.
        xy = std::fabs(b.r * b.r - 2 * (b.x * ux + b.y * uy)) /
             (std::hypot(b.x - ux, b.y - uy) + radius);
        if (xy > config.max_xy_residual + config.max_xy_residual_per_curvature * curvature)
            return false;
        const auto arc = [radius](double r) {
            return 2 * radius * std::asin(std::min(1.0, r / (2 * radius)));
        };
        sa = arc(a.r);
        sb = arc(b.r);
        sc = arc(c.r);
    } else {  // the origin, a and c on one line
        xy = std::fabs(a.x * b.y - a.y * b.x) / std::max(a.r, 1e-9);
        if (xy > config.max_xy_residual) return false;
    }
    const double ds = sc - sa, dz = c.z - a.z;
    const double sz =
        std::fabs(ds * (b.z - a.z) - dz * (sb - sa)) / std::max(std::hypot(ds, dz), 1e-9);
    return sz <= config.max_sz_residual + config.max_sz_residual_per_curvature * curvature;
}

}  // namespace

std::vector<CandidateEdge> filter_by_triplets(const TripletFilterConfig& config,
                                              std::vector<CandidateEdge> edges,
                                              const std::vector<HitPoint>& points) {
    if (!config.enabled) return edges;
    const size_t n_hits = points.size(), n_edges = edges.size();
    std::vector<Xyz> xyz(n_hits);
    for (size_t h = 0; h < n_hits; ++h)
        xyz[h] = {points[h].r * std::cos(points[h].phi), points[h].r * std::sin(points[h].phi),
                  points[h].z, points[h].r};

    // Edges by inner hit (out) and by outer hit (in), as CSR lists.
    std::vector<int64_t> out_start(n_hits + 1, 0), in_start(n_hits + 1, 0);
    for (const auto& e : edges) {
        ++out_start[e.inner + 1];
        ++in_start[e.outer + 1];
    }
    for (size_t h = 0; h < n_hits; ++h) {
        out_start[h + 1] += out_start[h];
        in_start[h + 1] += in_start[h];
    }
    std::vector<int32_t> out_edges(n_edges), in_edges(n_edges);
    {
        std::vector<int64_t> out_at(out_start.begin(), out_start.end() - 1),
            in_at(in_start.begin(), in_start.end() - 1);
        for (size_t e = 0; e < n_edges; ++e) {
            out_edges[out_at[edges[e].inner]++] = static_cast<int32_t>(e);
            in_edges[in_at[edges[e].outer]++] = static_cast<int32_t>(e);
        }
    }

    std::vector<uint8_t> keep(n_edges, 0);
    for (size_t b = 0; b < n_hits; ++b) {
        for (int64_t i = in_start[b]; i < in_start[b + 1]; ++i) {
            const int32_t e = in_edges[i];
            for (int64_t o = out_start[b]; o < out_start[b + 1]; ++o) {
                const int32_t f = out_edges[o];
                if (keep[e] && keep[f]) continue;
                if (on_one_helix(config, xyz[edges[e].inner], xyz[b], xyz[edges[f].outer]))
                    keep[e] = keep[f] = 1;
            }
        }
    }
    size_t kept = 0;
    for (size_t e = 0; e < n_edges; ++e)
        if (keep[e]) edges[kept++] = edges[e];
    edges.resize(kept);
    return edges;
}

}  // namespace hepgnn::data
