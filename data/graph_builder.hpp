// Event graphs from TrackML hits, in one of two constructions:
//  * detector: full  (the default for new work): every hit of the whole
//    detector is a node; candidate edges join hits on layer pairs of a module
//    map (data/module_map.hpp) whose segment quantities lie in the pair's
//    ranges. Truth chooses no node and no edge: graphs from hits alone
//    (infer) have exactly the edges of graphs from an event with truth
//    (prepare), which only adds labels.
//  * detector: barrel: HEP.TrkX's construction on the 10 barrel layers (one
//    hit per particle and layer, |dphi/dr| and |z0| cuts), kept for the
//    comparison with HEP.TrkX's figures.
// Labels: y = 1 for consecutive hits of one particle (Note [Trajectory steps]).
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "data/event_graph.hpp"
#include "data/module_map.hpp"
#include "data/trackml_event.hpp"
#include "data/triplet_filter.hpp"

namespace hepgnn::data {

enum class DetectorMode { kBarrel, kFull };

class GraphBuilder {
public:
    struct Config {
        DetectorMode detector = DetectorMode::kBarrel;
        // detector: full: the map (required) and where it came from (for errors).
        std::shared_ptr<const ModuleMap> module_map;
        std::string module_map_source;
        // Training-study cut that uses truth: hits of particles below pt_min
        // (GeV) and noise are dropped. 0 (the default): keep every hit.
        double pt_min = 0.0;
        // detector: barrel only (HEP.TrkX cuts).
        double phi_slope_max = 0.0006;  // rad/mm; |dphi/dr| cut (0.0006 ~ pT > 0.5 GeV)
        double z0_max = 100.0;          // mm; |z| of the segment extrapolated to r = 0
        // Also segments from layer i to i+2 that pass outside layer i+1's z
        // extent (Note [Uncrossed layers]); false: adjacent layers only (HEP.TrkX).
        bool skip_uncrossed_layers = true;
        // Both: graphs per event (Note [Section borders]: no edge is lost at borders).
        int n_phi_sections = 8;
        int n_eta_sections = 2;
        std::array<double, 2> eta_range{-5.0, 5.0};  // hits outside are dropped
        // Divisors of [r, phi, z]; empty: HEP.TrkX's [1000 mm, pi/n_phi_sections, 1000 mm].
        std::vector<double> feature_scale;
        // detector: full: keep only edges of a plausible triplet (Note [Triplet filter]).
        TripletFilterConfig triplets;
    };

    /// Feature names and the scales the builder divides them by.
    static FeatureInfo feature_info(const Config& config);

    /// Throws hepgnn::Error for an invalid config (e.g. detector full without a map).
    explicit GraphBuilder(Config config);
    const Config& config() const { return config_; }

    /// Graphs of one event with truth labels; one per non-empty section.
    /// Every candidate edge lands in exactly one graph: the section of its
    /// inner hit, which also holds the outer hit (Note [Section borders]).
    std::vector<EventGraph> build(const TrackmlEvent& event) const;

    /// Graphs from hits alone (inference): labels 0, particle ids 0.
    std::vector<EventGraph> build_from_hits(int64_t event_id, const std::vector<Hit>& hits) const;

private:
    struct SelectedHit;
    struct Edge {
        int32_t inner, outer;
    };
    std::vector<EventGraph> build_full(int64_t event_id, const std::vector<Hit>& hits,
                                       const TrackmlEvent* truth) const;
    std::vector<EventGraph> build_barrel(int64_t event_id, std::vector<SelectedHit> hits) const;
    void assign_sections(std::vector<SelectedHit>& hits) const;
    std::vector<Edge> barrel_edges(const std::vector<SelectedHit>& hits) const;
    std::vector<EventGraph> assemble(int64_t event_id, const std::vector<SelectedHit>& hits,
                                     const std::vector<Edge>& edges) const;
    Config config_;
};

}  // namespace hepgnn::data
