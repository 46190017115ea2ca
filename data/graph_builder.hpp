// Event graphs from TrackML hits (HEP.TrkX graph construction): barrel hits,
// candidate segments between adjacent layers that pass |dphi/dr| and |z0|
// cuts, labelled true when both hits come from one particle.
#pragma once

#include <array>
#include <vector>

#include "data/event_graph.hpp"
#include "data/trackml_event.hpp"

namespace hepgnn::data {

class GraphBuilder {
public:
    struct Config {
        double pt_min = 0.0;            // GeV; hits of particles below it are dropped (0: keep
                                        // all, including noise; > 0 drops noise, as HEP.TrkX)
        double phi_slope_max = 0.0006;  // rad/mm; |dphi/dr| cut (0.0006 ~ pT > 0.5 GeV)
        double z0_max = 100.0;          // mm; |z| of the segment extrapolated to r = 0
        int n_phi_sections = 8;         // graphs per event in phi
        int n_eta_sections = 2;         // graphs per event in eta
        std::array<double, 2> eta_range{-5.0, 5.0};  // hits outside are dropped
        // Also segments from layer i to i+2 that pass outside layer i+1's z
        // extent (Note [Uncrossed layers]); false: adjacent layers only (HEP.TrkX).
        bool skip_uncrossed_layers = true;
        // Divisors of [r, phi, z]; empty: HEP.TrkX's [1000 mm, pi/n_phi_sections, 1000 mm].
        std::vector<double> feature_scale;
    };

    /// Feature names and the scales the builder divides them by.
    static FeatureInfo feature_info(const Config& config);

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
    std::vector<EventGraph> build_graphs(int64_t event_id, std::vector<SelectedHit> hits) const;
    Config config_;
};

}  // namespace hepgnn::data
