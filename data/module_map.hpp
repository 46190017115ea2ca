// The module map (GNN4ITk / ACTS): which detector elements consecutive hits of
// one particle connect, and for each connected pair the ranges of the segment
// quantities (data/segment.hpp) that graph building cuts on. The element is a
// layer (Note [Layer elements] in module_map.cpp). hepgnn modulemap learns it
// from events with truth; prepare and infer (detector: full) apply it.
//
// The file is JSON, versioned, and names the geometry it was learned on: each
// layer's ids, kind and the r/z extent of its hits. Graph building refuses
// hits that do not lie on the layers so recorded, so a map is never applied
// silently to another detector.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "data/detector_geometry.hpp"
#include "data/segment.hpp"
#include "data/trackml_event.hpp"

namespace hepgnn::data {

inline constexpr const char* kModuleMapFormat = "hepgnn-modulemap";
inline constexpr int kModuleMapVersion = 1;

/// A hit this far (mm) off the surface of its layer, as the map recorded the
/// layer (r of a barrel cylinder, z of an endcap disk), was not made by the
/// detector the map was learned on; graph building refuses it.
inline constexpr double kLayerSurfaceTolerance = 5.0;

struct ValueRange {
    double lo = 0, hi = 0;
    bool contains(double v) const { return v >= lo && v <= hi; }
};

struct ModuleMap {
    /// A layer as its hits showed it.
    struct Layer {
        int32_t volume_id = 0, layer_id = 0;
        LayerKind kind = LayerKind::kBarrel;  // barrel: hits spread in z; endcap: in r
        double r_min = 0, r_max = 0, z_min = 0, z_max = 0;  // extent of its hits (mm)
        int64_t n_hits = 0;                                 // hits seen while learning
    };
    /// Consecutive hits of a particle go from layer `inner` to layer `outer`
    /// (indices into `layers`); `range` holds the accepted interval of each
    /// SegmentQuantity.
    struct Pair {
        int32_t inner = 0, outer = 0;
        int64_t n_segments = 0;  // learned from
        ValueRange range[kNumSegmentQuantities];
    };
    /// How the map was learned (for the record; not used by graph building).
    struct Provenance {
        int64_t n_events = 0, n_particles = 0, n_segments = 0;
        double pt_min = 0, coverage = 0, margin = 0;
        int64_t n_pruned_pairs = 0;     // pairs left out by range tuning
        int64_t n_tightened_pairs = 0;  // pairs whose ranges it narrowed
        double pruned_share = 0;        // share of the costed true segments it gave up
        double max_segment_loss = 0;    // the pruning budget
    };

    std::string geometry;  // the detector's name, as given to hepgnn modulemap
    std::vector<Layer> layers;
    std::vector<Pair> pairs;
    Provenance provenance;

    /// Index into `layers`, or -1.
    int32_t layer_index(int32_t volume_id, int32_t layer_id) const;

    /// Reads and validates a map file. Throws hepgnn::Error naming the file
    /// and what is wrong (format, version, truncation, empty map, bad ranges).
    static ModuleMap read(const std::filesystem::path& path);
    /// Writes atomically (no partial file under `path`).
    void write(const std::filesystem::path& path) const;
    /// Validation shared by read() and the builder; `where` names the source.
    void validate(const std::string& where) const;
};

}  // namespace hepgnn::data
