// A fast toy event simulator writing TrackML-like events: particles from a
// beam spot (or a given particle table), helix propagation in a solenoid
// through DetectorGeometry with multiple scattering, overlapping modules
// (double hits), smeared hits, inefficiency, noise hits and TrackML's hit
// weights. Good enough to train and test track-finding GNNs without the
// (large) TrackML sample; not a detector simulation.
#pragma once

#include <cstdint>
#include <vector>

#include "data/detector_geometry.hpp"
#include "data/trackml_event.hpp"
#include "data/trackml_weights.hpp"  // hit weights (trackml_hit_weights, trackml_pt_weight)

namespace hepgnn::data {

class EventSimulator {
public:
    /// Every effect is on by default at TrackML-like levels and can be
    /// switched off (Note [Simulation physics] in simulation.cpp).
    struct Config {
        // --- Detector and field.
        DetectorGeometry geometry = DetectorGeometry::trackml_like();  // layers crossed
        double b_field = 2.0;  // solenoid field along +z (T), > 0

        // --- Particle source.
        int64_t n_particles = 1000;  // particles per event; with a table, <= 0 takes it whole
        // When non-empty, each event draws n_particles rows with replacement, keeping their
        // vertex, momentum and charge (Note [Duplicate particle ids] for repeated rows).
        std::vector<Particle> particle_table;

        // --- Generated kinematics (unused with a particle_table). The
        // defaults match the pT spectrum of TrackML event 1000.
        double pt_min = 0.1;                // spectrum lower edge (GeV); lower draws are redrawn
        double pt_max = 100.0;              // spectrum upper edge (GeV); higher draws are redrawn
        double pt_core_log_mean = -1.16;    // log-normal core: mean of ln(pT / GeV)
        double pt_core_log_sigma = 0.77;    // log-normal core: sigma of ln(pT / GeV)
        double pt_tail_fraction = 0.048;    // fraction drawn from the power-law tail instead
        double pt_tail_min = 1.0;           // tail starts here (GeV)
        double pt_tail_index = 2.7;         // tail dN/dpT ~ pT^-index, > 1
        double eta_max = 4.0;               // |eta| range of generated particles
        double eta_central_fraction = 0.3;  // share drawn from a central Gaussian, rest uniform
        double eta_central_sigma = 1.0;     // sigma of that central Gaussian in eta
        double positive_fraction = 0.55;    // share of q = +1 (pp collisions favour positive)
        // Beam spot: TrackML event 1000's primary vertices (Note [TrackML beam spot]
        // in simulation.cpp); beam_sigma_z ~ 50 mm is HL-LHC-like.
        double beam_sigma_xy = 0.0144;         // beam spot size in x and y (mm); 0 = none
        double beam_mean_z = -0.3;             // beam spot centre in z (mm)
        double beam_sigma_z = 5.9;             // beam spot length in z (mm); 0 = none
        double secondary_fraction = 0.05;      // share from displaced (decay) vertices; 0 = none
        double secondary_decay_length = 30.0;  // mean flight distance to those vertices (mm)

        // --- Detector effects.
        bool multiple_scattering = true;  // Highland-formula deflection at each crossed layer
        double particle_mass = 0.13957;   // mass for the velocity in the Highland formula (GeV)
        bool hit_smearing = true;         // Gaussian smearing with each layer's resolution
        double inefficiency = 0.03;       // chance that a module crossing leaves no hit; 0 = none
        // A crossing in the phi overlap of two modules leaves a hit on both (Note
        // [Double hits] in simulation.cpp); false = one module, one hit per crossing.
        bool double_hits = true;
        double noise_fraction = 0.10;  // noise hits as a share of all hits, in [0, 1)
        int max_crossings = 40;        // layer crossings followed per particle, at most
    };

    /// Throws hepgnn::Error naming the offending field when the config is invalid.
    explicit EventSimulator(Config config);

    const Config& config() const { return m_cfg; }

    /// One event, a pure function of (config, event_id, seed): the same
    /// arguments give the same event on every platform and run. Hits are
    /// ordered by (volume_id, layer_id, module_id) and numbered 1..N, as in
    /// TrackML.
    TrackmlEvent simulate(int64_t event_id, uint64_t seed) const;

private:
    Config m_cfg;
    std::vector<double> m_noise_cdf;  // cumulative module count over layers, to place noise
};

}  // namespace hepgnn::data
