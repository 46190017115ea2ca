// Learns a module map (data/module_map.hpp) from events with truth: the layer
// pairs that true segments (data/trajectory.hpp) join, and per pair the range
// of each segment quantity that covers all but a set share of them.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "data/module_map.hpp"
#include "data/trackml_event.hpp"

namespace hepgnn::data {

class ModuleMapBuilder {
public:
    struct Config {
        std::string geometry = "unnamed";  // the detector's name, recorded in the map
        double pt_min = 0.5;       // GeV; ranges are learned from particles above it (all layers'
                                   // extents from every hit)
        double coverage = 0.999;   // share of a pair's segments inside each quantity's range
                                   // (the rest split evenly between the two tails); with
                                   // tuning, the widest a pair gets
        double margin = 0.05;      // each range widened by this share of its width, each side
        int64_t min_segments = 1;  // pairs learned from fewer segments are left out
        // Range tuning (Note [Range tuning] in the .cpp): ranges are narrowed,
        // or pairs left out, where that saves the most candidate edges per
        // true segment lost (weighted by its particle's TrackML pT weight),
        // while the loss stays below this share of the weight kept at
        // `coverage`. 0: every pair at `coverage`.
        double max_segment_loss = 0.005;
        int prune_events = 4;  // the last events added, on which ranges are costed
    };

    /// Throws hepgnn::Error for a config out of range.
    explicit ModuleMapBuilder(Config config);
    const Config& config() const { return m_cfg; }

    /// Adds the hits and true segments of one event (needs truth and particles).
    void add_event(const TrackmlEvent& event);
    /// The map so far. Throws hepgnn::Error when nothing was learned.
    ModuleMap finish() const;

    int64_t n_events() const { return m_events; }

private:
    struct LayerStats {
        double r_min = 1e300, r_max = -1e300, z_min = 1e300, z_max = -1e300;
        int64_t n_hits = 0;
    };
    using LayerKey = std::pair<int32_t, int32_t>;
    /// What range tuning needs of an event: hits and its learned true segments.
    struct CostingEvent {
        std::vector<HitPoint> points;
        std::vector<LayerKey> layer;
        std::vector<std::pair<int32_t, int32_t>> segments;
        std::vector<float> value;  // per segment: its particle's TrackML pT weight
    };
    void tune_ranges(ModuleMap& map,
                     const std::vector<std::vector<std::array<ValueRange, kNumSegmentQuantities>>>&
                         ranges) const;
    Config m_cfg;
    std::vector<CostingEvent> m_costing;  // ring of the last prune_events events
    size_t m_costing_next = 0;
    std::map<LayerKey, LayerStats> m_layers;
    std::map<std::pair<LayerKey, LayerKey>, std::array<std::vector<float>, kNumSegmentQuantities>>
        m_segments;
    int64_t m_events = 0, m_particles = 0, m_segment_count = 0;
};

}  // namespace hepgnn::data
