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

// Material, resolution and module size shared by the layers of one sub-detector.
struct Technology {
    double thickness_x0;
    double sigma_rphi;
    double sigma_long;
    double module_width;   // along phi (mm)
    double module_length;  // along z (barrel) or r (endcap) (mm)
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
    // Modules are tiled at the layer's (mean) radius.
    const double radius = kind == LayerKind::kBarrel ? position : 0.5 * (long_min + long_max);
    layer.n_modules_phi =
        std::max(1, static_cast<int32_t>(std::ceil(2 * kPi * radius / tech.module_width)));
    layer.n_modules_long =
        std::max(1, static_cast<int32_t>(std::ceil((long_max - long_min) / tech.module_length)));
    return layer;
}

}  // namespace

int32_t DetectorLayer::module_id(double phi, double long_coord) const {
    double phi_fraction = (phi + kPi) / (2 * kPi);
    phi_fraction -= std::floor(phi_fraction);
    const int32_t i_phi = clamp_index(phi_fraction, n_modules_phi);
    const int32_t i_long =
        clamp_index((long_coord - long_min) / (long_max - long_min), n_modules_long);
    return i_long * n_modules_phi + i_phi + 1;
}

// Note [Toy TrackML geometry]
// Radii, disk positions and volume/layer ids follow the TrackML detector
// (pixel volumes 7/8/9, short strips 12/13/14, long strips 16/17/18). As in
// TrackML, layer ids count 2, 4, 6, ... in increasing r (barrel) or
// increasing z (endcaps; so on the negative side, id 2 is the disk farthest
// from the interaction point). Material and resolutions are round numbers at
// TrackML-like levels: pixels 2.5% X0, 15 um x 55 um; strips 4% X0, ~45 um
// across and 0.6 mm (short) or 1.2 mm (long) along the strip. Modules do not
// overlap, so a particle leaves at most one hit per layer crossing.
DetectorGeometry DetectorGeometry::trackml_like() {
    const Technology pixel{0.025, 0.015, 0.055, 16.0, 64.0};
    const Technology short_strip{0.04, 0.043, 0.6, 48.0, 108.0};
    const Technology long_strip{0.04, 0.05, 1.2, 96.0, 108.0};

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
