// The geometry of a candidate segment between two hits, computed in one place
// so that the module map learns exactly the quantities that graph building
// later cuts on (Note [Segment quantities]).
#pragma once

#include <cmath>
#include <cstdint>

namespace hepgnn::data {

/// Cylindrical coordinates of a hit (mm, rad) and its pseudorapidity seen from
/// the origin.
struct HitPoint {
    double r = 0, phi = 0, z = 0, eta = 0;
};

inline HitPoint hit_point(double x, double y, double z) {
    const double r = std::hypot(x, y);
    return {r, std::atan2(y, x), z, std::asinh(z / r)};
}

/// dphi in (-pi, pi].
inline double wrap_phi(double dphi) {
    constexpr double kPi = 3.14159265358979323846;
    while (dphi > kPi) dphi -= 2 * kPi;
    while (dphi <= -kPi) dphi += 2 * kPi;
    return dphi;
}

// Note [Segment quantities]
// For a segment from hit a (earlier on the trajectory) to hit b:
//   dphi      = phi_b - phi_a, wrapped                (rad)
//   phi_slope = dphi / (r_b - r_a)                    (rad/mm; ~ 0.3 B q / (2 pT): the
//               curvature, the same invariant for barrel and endcap pairs)
//   z0        = z_a - r_a (z_b - z_a) / (r_b - r_a)   (mm; the straight line to r = 0)
//   deta      = eta_b - eta_a
// They need r_b - r_a > kMinSegmentDr: segments that do not move outwards
// (loopers, or a looping secondary) are never candidate edges.
inline constexpr double kMinSegmentDr = 0.01;  // mm

inline constexpr int kNumSegmentQuantities = 4;
enum SegmentQuantity : int { kPhiSlope = 0, kZ0 = 1, kDphi = 2, kDeta = 3 };
inline constexpr const char* kSegmentQuantityNames[kNumSegmentQuantities] = {"phi_slope", "z0",
                                                                             "dphi", "deta"};

struct SegmentQuantities {
    double value[kNumSegmentQuantities] = {0, 0, 0, 0};
};

/// False (and `out` untouched) when r_b - r_a <= kMinSegmentDr.
inline bool segment_quantities(const HitPoint& a, const HitPoint& b, SegmentQuantities& out) {
    const double dr = b.r - a.r;
    if (!(dr > kMinSegmentDr)) return false;
    const double dphi = wrap_phi(b.phi - a.phi);
    out.value[kPhiSlope] = dphi / dr;
    out.value[kZ0] = a.z - a.r * (b.z - a.z) / dr;
    out.value[kDphi] = dphi;
    out.value[kDeta] = b.eta - a.eta;
    return true;
}

}  // namespace hepgnn::data
