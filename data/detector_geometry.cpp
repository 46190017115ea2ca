#include "data/detector_geometry.hpp"

#include <algorithm>
#include <cmath>

namespace hepgnn::data {

namespace {

constexpr double kPi = 3.14159265358979323846;

int32_t clamp_index(double fraction, int32_t n) {
    const double scaled = std::floor(fraction * n);
    if (!(scaled >= 0)) return 0;  // also catches NaN
    return scaled >= n ? n - 1 : static_cast<int32_t>(scaled);
}

/// Azimuth `phi` (any range) as a fraction of the turn from -pi, in [0, 1).
double phi_fraction(double phi) {
    const double fraction = (phi + kPi) / (2 * kPi);
    return fraction - std::floor(fraction);
}

// Material, resolution and module size shared by the layers of one sub-detector.
struct Technology {
    double thickness_x0;
    double sigma_rphi;
    double sigma_long;
    double module_width;   // along phi (mm)
    double module_length;  // along z (barrel) or r (endcap) (mm)
    double phi_overlap;    // Note [Module overlaps]
    double stagger;        // (mm)
};

DetectorLayer make_layer(LayerKind kind, int32_t volume_id, int32_t layer_id, double position,
                         double long_min, double long_max, const Technology& tech) {
    DetectorLayer layer;
    layer.kind = kind;
    layer.volume_id = volume_id;
    layer.layer_id = layer_id;
    layer.position = position;
    layer.long_min = long_min;
    layer.long_max = long_max;
    layer.thickness_x0 = tech.thickness_x0;
    layer.sigma_rphi = tech.sigma_rphi;
    layer.sigma_long = tech.sigma_long;
    layer.phi_overlap = tech.phi_overlap;
    layer.stagger = tech.stagger;
    // Modules are tiled at the layer's (mean) radius, in an even number so
    // that staggered and unstaggered modules alternate all the way round.
    const double radius = kind == LayerKind::kBarrel ? position : 0.5 * (long_min + long_max);
    const auto n_phi = static_cast<int32_t>(std::ceil(2 * kPi * radius / tech.module_width));
    layer.n_modules_phi = std::max(2, n_phi + n_phi % 2);
    layer.n_modules_long =
        std::max(1, static_cast<int32_t>(std::ceil((long_max - long_min) / tech.module_length)));
    return layer;
}

}  // namespace

int32_t DetectorLayer::phi_index(double phi) const {
    return clamp_index(phi_fraction(phi), n_modules_phi);
}

int32_t DetectorLayer::long_index(double long_coord) const {
    return clamp_index((long_coord - long_min) / (long_max - long_min), n_modules_long);
}

double DetectorLayer::phi_in_slot(double phi) const {
    const double u = phi_fraction(phi) * n_modules_phi - phi_index(phi);
    return std::min(std::max(u, 0.0), 1.0);
}

int32_t DetectorLayer::module_id(double phi, double long_coord) const {
    return module_id_of_slots(phi_index(phi), long_index(long_coord));
}

double DetectorLayer::module_position(int32_t i_phi) const {
    if (i_phi % 2 == 0 || stagger == 0) return position;
    // Away from the interaction point: outwards in r, or in |z|.
    return kind == LayerKind::kBarrel || position >= 0 ? position + stagger : position - stagger;
}

bool DetectorLayer::module_covers_phi(int32_t i_phi, double phi) const {
    // Distance from the slot centre in slot units, the shorter way round.
    double d = phi_fraction(phi) * n_modules_phi - (i_phi + 0.5);
    d -= n_modules_phi * std::round(d / n_modules_phi);
    return std::fabs(d) <= 0.5 + phi_overlap;
}

// Note [Toy TrackML geometry]
// Radii, disk positions and volume/layer ids follow the TrackML detector
// (pixel volumes 7/8/9, short strips 12/13/14, long strips 16/17/18). As in
// TrackML, layer ids count 2, 4, 6, ... in increasing r (barrel) or
// increasing z (endcaps; so on the negative side, id 2 is the disk farthest
// from the interaction point). Material and resolutions are round numbers at
// TrackML-like levels: pixels 2.5% X0, 15 um x 55 um; strips 4% X0, ~45 um
// across and 0.6 mm (short) or 1.2 mm (long) along the strip.
//
// Note [Module overlaps]
// As in TrackML, neighbouring modules overlap in phi so that the layer has
// no cracks; a particle crossing an overlap leaves a hit on both modules (a
// "double hit": same volume and layer, neighbouring module ids). Each module
// reaches phi_overlap of its slot width past each slot edge, so a fraction
// of about 2 * phi_overlap of a layer's phi is covered twice. To make room,
// odd modules sit `stagger` farther out (r in the barrel, |z| on a disk);
// the second hit is where the helix meets that other surface.
// Values: phi_overlap = 0.08 everywhere gives ~15.5% of a default event's
// layer crossings a double hit (~13.5% of particle hits are the second hit
// of a double, ~27% belong to one). Real data sets it: the prompt
// pT > 1 GeV, |eta| < 1 particles of TrackML event 1000 have 11.26 hits on
// average on the 10 barrel layers of the real detector, and the toy gives
// the same particles 11.11 (1.3% fewer; 0.06: 4.5% fewer, no overlaps: 15%
// fewer). TrackML also overlaps modules in z; the toy puts it all in phi.
// Staggers are round numbers at the few-mm scale of TrackML's: 2 mm
// (pixels), 4 mm (strips).
DetectorGeometry DetectorGeometry::trackml_like() {
    const Technology pixel{0.025, 0.015, 0.055, 16.0, 64.0, 0.08, 2.0};
    const Technology short_strip{0.04, 0.043, 0.6, 48.0, 108.0, 0.08, 4.0};
    const Technology long_strip{0.04, 0.05, 1.2, 96.0, 108.0, 0.08, 4.0};

    DetectorGeometry geometry;
    auto& layers = geometry.layers;

    struct Barrel {
        int32_t volume_id;
        std::vector<double> radii;
        double half_length;
        const Technology& tech;
    };
    const Barrel barrels[] = {
        {8, {32, 72, 116, 172}, 491, pixel},
        {13, {260, 360, 500, 660}, 1080, short_strip},
        {17, {820, 1020}, 1080, long_strip},
    };
    for (const Barrel& b : barrels) {
        for (size_t i = 0; i < b.radii.size(); ++i) {
            layers.push_back(make_layer(LayerKind::kBarrel, b.volume_id,
                                        static_cast<int32_t>(2 * (i + 1)), b.radii[i],
                                        -b.half_length, b.half_length, b.tech));
        }
    }

    struct Endcap {
        int32_t volume_negative, volume_positive;
        std::vector<double> abs_z;  // ascending
        double r_min, r_max;
        const Technology& tech;
    };
    const std::vector<double> pixel_z = {600, 700, 820, 960, 1100, 1300, 1500};
    const std::vector<double> strip_z = {1220, 1500, 1800, 2150, 2500, 2950};
    const Endcap endcaps[] = {
        {7, 9, pixel_z, 30, 175, pixel},
        {12, 14, strip_z, 230, 700, short_strip},
        {16, 18, strip_z, 700, 1020, long_strip},
    };
    for (const Endcap& e : endcaps) {
        const int32_t n = static_cast<int32_t>(e.abs_z.size());
        for (int32_t i = 0; i < n; ++i) {
            // Negative side: ids increase with z, i.e. from the far disk inwards.
            layers.push_back(make_layer(LayerKind::kEndcap, e.volume_negative, 2 * (n - i),
                                        -e.abs_z[i], e.r_min, e.r_max, e.tech));
            layers.push_back(make_layer(LayerKind::kEndcap, e.volume_positive, 2 * (i + 1),
                                        e.abs_z[i], e.r_min, e.r_max, e.tech));
        }
    }
    std::stable_sort(
        layers.begin() + kNumBarrelLayers, layers.end(),
        [](const DetectorLayer& a, const DetectorLayer& b) { return a.position < b.position; });
    return geometry;
}

const DetectorLayer* DetectorGeometry::find_layer(int32_t volume_id, int32_t layer_id) const {
    for (const DetectorLayer& layer : layers) {
        if (layer.volume_id == volume_id && layer.layer_id == layer_id) return &layer;
    }
    return nullptr;
}

int barrel_layer_index(int volume_id, int layer_id) {
    if (layer_id <= 0 || layer_id % 2 != 0) return -1;
    const int k = layer_id / 2 - 1;  // 0-based position inside the volume
    switch (volume_id) {
        case 8:
            return k < 4 ? k : -1;
        case 13:
            return k < 4 ? 4 + k : -1;
        case 17:
            return k < 2 ? 8 + k : -1;
        default:
            return -1;
    }
}

}  // namespace hepgnn::data
