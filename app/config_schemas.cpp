#include "app/config_schemas.hpp"

#include "core/error.hpp"

namespace hepgnn::app {

ConfigSchema prepare_schema() {
    ConfigSchema s;
    s.real("pt_min", 0.0, 0.0, 1000.0,
           "GeV; drop hits of particles below this pT (> 0 also drops noise hits)");
    s.real("phi_slope_max", 0.0006, 1e-7, 1.0, "rad/mm; cut on |dphi/dr| of a candidate edge");
    s.real("z0_max", 100.0, 1e-3, 1e4, "mm; cut on |z0| of a candidate edge");
    s.integer("n_phi_sections", 8, 1, 1024, "graphs per event in phi");
    s.integer("n_eta_sections", 2, 1, 1024, "graphs per event in eta");
    s.real_list("eta_range", "[-5, 5]", "[low, high]; hits outside are dropped");
    s.real_list("feature_scale", "[]",
                "[r mm, phi rad, z mm]; node features are r, phi (from the section centre) "
                "and z divided by these; [] takes HEP.TrkX's [1000, pi/n_phi_sections, 1000]");
    s.flag("skip_uncrossed_layers", true,
           "also connect layers i and i+2 when the segment passes outside layer i+1's z "
           "extent (the pixel-to-strip step), so such tracks are not cut in two");
    return s;
}

data::GraphBuilder::Config graph_builder_config(const Config& config) {
    data::GraphBuilder::Config c;
    c.pt_min = config.get_float("pt_min");
    c.phi_slope_max = config.get_float("phi_slope_max");
    c.z0_max = config.get_float("z0_max");
    c.n_phi_sections = static_cast<int>(config.get_int("n_phi_sections"));
    c.n_eta_sections = static_cast<int>(config.get_int("n_eta_sections"));
    c.skip_uncrossed_layers = config.get_bool("skip_uncrossed_layers");
    const auto& eta = config.get_float_list("eta_range");
    HEPGNN_CHECK(eta.size() == 2 && eta[0] < eta[1],
                 "{}: key 'eta_range' must be [low, high] with low < high", config.source());
    c.eta_range = {eta[0], eta[1]};
    c.feature_scale = config.get_float_list("feature_scale");
    return c;
}

}  // namespace hepgnn::app
