// A toy detector shaped like the TrackML one: barrel cylinders and endcap
// disks, each with its TrackML volume_id/layer_id, material, resolution and
// module tiling. The simulator propagates particles through it; the graph
// builder maps (volume_id, layer_id) to barrel layer numbers with it.
#pragma once

#include <cstdint>
#include <vector>

namespace hepgnn::data {

enum class LayerKind {
    kBarrel,  // a cylinder of radius `position` around the z axis
    kEndcap,  // a disk perpendicular to the z axis at z = `position`
};

/// One sensitive layer. Lengths in mm.
///
/// "Long" is the coordinate a layer does not measure in phi: z on a barrel
/// cylinder, r on an endcap disk.
struct DetectorLayer {
    LayerKind kind = LayerKind::kBarrel;
    int32_t volume_id = 0;      // TrackML volume id (8, 13, 17 barrel; 7, 9, 12, 14, 16, 18 endcap)
    int32_t layer_id = 0;       // TrackML layer id: 2, 4, 6, ... in increasing r or z
    double position = 0;        // barrel: radius r; endcap: signed z
    double long_min = 0;        // barrel: lowest z; endcap: inner radius
    double long_max = 0;        // barrel: highest z; endcap: outer radius
    double thickness_x0 = 0;    // material for a perpendicular crossing, in radiation lengths
    double sigma_rphi = 0;      // hit resolution along phi (r * dphi)
    double sigma_long = 0;      // hit resolution along z (barrel) or r (endcap)
    int32_t n_modules_phi = 1;  // modules around phi
    int32_t n_modules_long = 1;  // modules along z (barrel) or r (endcap)
    // Note [Module overlaps] in detector_geometry.cpp: each module reaches this
    // fraction of its phi slot past each slot edge, in [0, 0.5).
    double phi_overlap = 0;
    // Odd modules in phi sit this much (mm) farther from the interaction point
    // than `position`: in r (barrel) or |z| (endcap). >= 0; with overlaps it
    // keeps neighbouring modules apart, as in TrackML.
    double stagger = 0;

    int32_t n_modules() const { return n_modules_phi * n_modules_long; }

    /// Phi slot (0-based) of azimuth `phi` (any range): slots tile phi without overlap.
    int32_t phi_index(double phi) const;
    /// Slot (0-based) along the long coordinate; outside the bounds clamps to the edge slot.
    int32_t long_index(double long_coord) const;
    /// Position of `phi` inside its slot: 0 at the low-phi edge, 1 at the high one.
    double phi_in_slot(double phi) const;

    /// 1-based module number of slots (i_phi, i_long).
    int32_t module_id_of_slots(int32_t i_phi, int32_t i_long) const {
        return i_long * n_modules_phi + i_phi + 1;
    }
    /// 1-based module number of the point at azimuth `phi` (any range) and
    /// long coordinate `long_coord` by slot, overlaps ignored; points just
    /// outside the layer's bounds (e.g. from smearing) go to the edge module.
    int32_t module_id(double phi, double long_coord) const;
    /// Phi slot of a 1-based module number.
    int32_t phi_index_of_module(int32_t module) const { return (module - 1) % n_modules_phi; }

    /// Where the surface of the modules in phi slot `i_phi` lies: its radius
    /// (barrel) or signed z (endcap), `position` moved out by the stagger for odd slots.
    double module_position(int32_t i_phi) const;
    /// True when module slot `i_phi`, widened by phi_overlap at each edge, covers `phi`.
    bool module_covers_phi(int32_t i_phi, double phi) const;
};

/// The whole detector: every layer, plus the volume in which particles are
/// propagated.
struct DetectorGeometry {
    std::vector<DetectorLayer> layers;  // barrel layers first (inside out), then disks by z
    double world_r = 1100;              // particles stop beyond this radius (mm)
    double world_z = 3000;              // ... or beyond this |z| (mm)

    /// TrackML-like detector (Note [Toy TrackML geometry] in detector_geometry.cpp).
    static DetectorGeometry trackml_like();

    /// The layer with these ids, or nullptr.
    const DetectorLayer* find_layer(int32_t volume_id, int32_t layer_id) const;
};

/// Number of barrel layers in the TrackML detector (and in trackml_like()).
inline constexpr int kNumBarrelLayers = 10;

/// Barrel layer number 0..9 (inside out) of a TrackML (volume_id, layer_id):
/// volume 8 layers 2,4,6,8 -> 0..3; volume 13 layers 2,4,6,8 -> 4..7;
/// volume 17 layers 2,4 -> 8,9. Returns -1 for endcaps and unknown ids.
int barrel_layer_index(int volume_id, int layer_id);

}  // namespace hepgnn::data
