#include "app/config_schemas.hpp"

#include "core/error.hpp"

namespace hepgnn::app {

ConfigSchema prepare_schema() {
    ConfigSchema s;
    s.text("detector", "barrel", {"barrel", "full"},
           "full: every hit of the whole detector, edges from the module map (truth only "
           "labels them); barrel: HEP.TrkX's construction on the 10 barrel layers");
    s.text("module_map", "", {},
           "detector: full: the map file 'hepgnn modulemap' wrote (its layer pairs and cut "
           "ranges)");
    s.real("pt_min", 0.0, 0.0, 1000.0,
           "GeV; training studies only, uses truth: drop hits of particles below this pT "
           "(> 0 also drops noise hits); 0 keeps every hit");
    s.real("phi_slope_max", 0.0006, 1e-7, 1.0,
           "detector: barrel: rad/mm; cut on |dphi/dr| of a candidate edge");
    s.real("z0_max", 100.0, 1e-3, 1e4, "detector: barrel: mm; cut on |z0| of a candidate edge");
    s.integer("n_phi_sections", 8, 1, 1024, "graphs per event in phi");
    s.integer("n_eta_sections", 2, 1, 1024, "graphs per event in eta");
    s.real_list("eta_range", "[-5, 5]", "[low, high]; hits outside are dropped");
    s.real_list("feature_scale", "[]",
                "[r mm, phi rad, z mm]; node features are r, phi (from the section centre) "
                "and z divided by these; [] takes HEP.TrkX's [1000, pi/n_phi_sections, 1000]");
    s.flag("skip_uncrossed_layers", true,
           "also connect layers i and i+2 when the segment passes outside layer i+1's z "
           "extent (the pixel-to-strip step), so such tracks are not cut in two");
    s.flag("triplet_filter", false,
           "detector: full: keep only edges that continue into, or come from, another edge "
           "along a helix from the beam line (Note [Triplet filter]; prunes the fakes of "
           "low-pT maps)");
    s.real("triplet_max_xy_residual", 1.0, 0.0, 1e4,
           "mm; triplet filter: distance of the middle hit from the circle through the origin "
           "and the outer hits, constant part");
    s.real("triplet_max_xy_residual_per_curvature", 1000.0, 0.0, 1e9,
           "mm^2; triplet filter: that distance's part per unit of curvature (1/mm)");
    s.real("triplet_max_sz_residual", 4.0, 0.0, 1e4,
           "mm; triplet filter: distance of the middle hit from the line through the outer "
           "hits in (arc length, z), constant part");
    s.real("triplet_max_sz_residual_per_curvature", 5000.0, 0.0, 1e9,
           "mm^2; triplet filter: that distance's part per unit of curvature (1/mm)");
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
    c.triplets.enabled = config.get_bool("triplet_filter");
    c.triplets.max_xy_residual = config.get_float("triplet_max_xy_residual");
    c.triplets.max_xy_residual_per_curvature =
        config.get_float("triplet_max_xy_residual_per_curvature");
    c.triplets.max_sz_residual = config.get_float("triplet_max_sz_residual");
    c.triplets.max_sz_residual_per_curvature =
        config.get_float("triplet_max_sz_residual_per_curvature");
    if (config.get_string("detector") == "full") {
        c.detector = data::DetectorMode::kFull;
        const std::string& path = config.get_string("module_map");
        HEPGNN_CHECK(!path.empty(),
                     "{}: detector: full needs key 'module_map' (the file 'hepgnn modulemap' "
                     "wrote); build one with 'hepgnn modulemap --input TRAIN_EVENTS --out MAP'",
                     config.source());
        c.module_map = std::make_shared<const data::ModuleMap>(data::ModuleMap::read(path));
        c.module_map_source = path;
    }
    return c;
}

ConfigSchema modulemap_schema() {
    ConfigSchema s;
    s.text("geometry", "unnamed", {}, "the detector's name, recorded in the map");
    s.real("pt_min", 0.5, 0.0, 1000.0, "GeV; cut ranges are learned from particles above it");
    s.real("coverage", 0.999, 1e-6, 1.0,
           "share of a layer pair's learned segments inside each cut range (the widest "
           "range tuning leaves)");
    s.real("margin", 0.05, 0.0, 10.0, "each range is widened by this share of its width");
    s.integer("min_segments", 1, 1, 1000000000, "layer pairs seen fewer times are left out");
    s.real("max_segment_loss", 0.005, 0.0, 0.5,
           "range tuning narrows ranges, or leaves pairs out, where that saves the most edges "
           "per true segment lost, until this share is lost (0: no tuning)");
    s.integer("prune_events", 4, 1, 1000, "the last events read, on which ranges are costed");
    return s;
}

data::ModuleMapBuilder::Config module_map_builder_config(const Config& config) {
    data::ModuleMapBuilder::Config c;
    c.geometry = config.get_string("geometry");
    c.pt_min = config.get_float("pt_min");
    c.coverage = config.get_float("coverage");
    c.margin = config.get_float("margin");
    c.min_segments = config.get_int("min_segments");
    c.max_segment_loss = config.get_float("max_segment_loss");
    c.prune_events = static_cast<int>(config.get_int("prune_events"));
    return c;
}

}  // namespace hepgnn::app
