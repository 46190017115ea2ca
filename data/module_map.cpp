#include "data/module_map.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/json_number.hpp"

namespace hepgnn::data {

// Note [Layer elements]
// The map's element is a layer, not a module. Measured on simulated
// 10,000-particle events (scripts/module_map_study.py, README "Module map"):
// a module-pair map learned from 100 events holds only part of the module
// pairs that true segments of unseen events cross, so edges of those
// segments could never be built; a layer-pair map learned from 10 events
// already covers them all. TrackML's ~18,000 modules make the module-pair
// space too large to fill from the ~100 events a user has; GNN4ITk fills its
// module map from ~90,000 events. With layer pairs the cuts are wider, and
// the binned search (data/candidate_edges.cpp) keeps their cost linear.

namespace {

using nlohmann::json;

const char* kind_name(LayerKind k) {
    return k == LayerKind::kBarrel ? "barrel" : "endcap";
}

}  // namespace

int32_t ModuleMap::layer_index(int32_t volume_id, int32_t layer_id) const {
    for (size_t i = 0; i < layers.size(); ++i)
        if (layers[i].volume_id == volume_id && layers[i].layer_id == layer_id)
            return static_cast<int32_t>(i);
    return -1;
}

void ModuleMap::validate(const std::string& where) const {
    HEPGNN_CHECK(!layers.empty(),
                 "{}: the module map has no layers; build it with 'hepgnn modulemap' from "
                 "events with truth",
                 where);
    HEPGNN_CHECK(!pairs.empty(),
                 "{}: the module map has no layer pairs (no particle left two hits in the "
                 "events it was learned from); build it from more events with 'hepgnn modulemap'",
                 where);
    std::set<std::pair<int32_t, int32_t>> ids;
    for (const Layer& l : layers) {
        HEPGNN_CHECK(ids.insert({l.volume_id, l.layer_id}).second,
                     "{}: layer (volume {}, layer {}) is listed twice; the file is corrupt: "
                     "rebuild it with 'hepgnn modulemap'",
                     where, l.volume_id, l.layer_id);
        HEPGNN_CHECK(std::isfinite(l.r_min) && std::isfinite(l.r_max) && std::isfinite(l.z_min) &&
                         std::isfinite(l.z_max) && l.r_min >= 0 && l.r_min <= l.r_max &&
                         l.z_min <= l.z_max,
                     "{}: layer (volume {}, layer {}) has a bad extent r [{}, {}] z [{}, {}]; "
                     "rebuild the map with 'hepgnn modulemap'",
                     where, l.volume_id, l.layer_id, l.r_min, l.r_max, l.z_min, l.z_max);
    }
    std::set<std::pair<int32_t, int32_t>> seen;
    const auto n = static_cast<int32_t>(layers.size());
    for (size_t p = 0; p < pairs.size(); ++p) {
        const Pair& pair = pairs[p];
        HEPGNN_CHECK(pair.inner >= 0 && pair.inner < n && pair.outer >= 0 && pair.outer < n &&
                         pair.inner != pair.outer,
                     "{}: pair {} joins layer indices {} -> {}, but the map has {} layers; "
                     "rebuild it with 'hepgnn modulemap'",
                     where, p, pair.inner, pair.outer, n);
        HEPGNN_CHECK(seen.insert({pair.inner, pair.outer}).second,
                     "{}: pair {} -> {} is listed twice; rebuild the map with 'hepgnn modulemap'",
                     where, pair.inner, pair.outer);
        for (int q = 0; q < kNumSegmentQuantities; ++q) {
            const ValueRange& r = pair.range[q];
            HEPGNN_CHECK(std::isfinite(r.lo) && std::isfinite(r.hi) && r.lo <= r.hi,
                         "{}: pair {} (volume {} layer {} -> volume {} layer {}) has a bad "
                         "'{}' range [{}, {}]; rebuild the map with 'hepgnn modulemap'",
                         where, p, layers[pair.inner].volume_id, layers[pair.inner].layer_id,
                         layers[pair.outer].volume_id, layers[pair.outer].layer_id,
                         kSegmentQuantityNames[q], r.lo, r.hi);
        }
    }
}

void ModuleMap::write(const std::filesystem::path& path) const {
    validate(path.string());
    json j;
    j["format"] = kModuleMapFormat;
    j["version"] = kModuleMapVersion;
    j["element"] = "layer";
    j["geometry"] = {{"name", geometry}, {"layers", json::array()}};
    for (const Layer& l : layers) {
        j["geometry"]["layers"].push_back({{"volume_id", l.volume_id},
                                           {"layer_id", l.layer_id},
                                           {"kind", kind_name(l.kind)},
                                           {"r", {l.r_min, l.r_max}},
                                           {"z", {l.z_min, l.z_max}},
                                           {"n_hits", l.n_hits}});
    }
    j["learned_from"] = {{"events", provenance.n_events},
                         {"particles", provenance.n_particles},
                         {"segments", provenance.n_segments},
                         {"pt_min", provenance.pt_min},
                         {"coverage", provenance.coverage},
                         {"margin", provenance.margin},
                         {"pruned_pairs", provenance.n_pruned_pairs},
                         {"tightened_pairs", provenance.n_tightened_pairs},
                         {"pruned_segment_share", provenance.pruned_share},
                         {"max_segment_loss", provenance.max_segment_loss}};
    j["pairs"] = json::array();
    for (const Pair& p : pairs) {
        json ranges;
        for (int q = 0; q < kNumSegmentQuantities; ++q)
            ranges[kSegmentQuantityNames[q]] = {p.range[q].lo, p.range[q].hi};
        j["pairs"].push_back({{"inner", {layers[p.inner].volume_id, layers[p.inner].layer_id}},
                              {"outer", {layers[p.outer].volume_id, layers[p.outer].layer_id}},
                              {"n_segments", p.n_segments},
                              {"ranges", ranges}});
    }
    write_file_atomically(path, j.dump(1) + "\n", "module map");
}

ModuleMap ModuleMap::read(const std::filesystem::path& path) {
    const std::string where = fmt::format("module map '{}'", path.string());
    std::ifstream in(path);
    HEPGNN_CHECK(in.good(), "{}: cannot open it; build one with 'hepgnn modulemap'", where);
    std::stringstream text;
    text << in.rdbuf();
    json j;
    try {
        j = json::parse(text.str());
    } catch (const json::exception& e) {
        HEPGNN_FAIL(
            "{}: not a complete module map ({}); the file is cut short or not a map: rebuild it "
            "with 'hepgnn modulemap'",
            where, e.what());
    }
    ModuleMap map;
    try {
        HEPGNN_CHECK(j.is_object() && j.value("format", std::string()) == kModuleMapFormat,
                     "{}: not a hepgnn module map (format is not '{}')", where, kModuleMapFormat);
        const int version = json_integer<int32_t>(j.at("version"), where);
        HEPGNN_CHECK(version == kModuleMapVersion,
                     "{}: module map version {}, but this hepgnn reads version {}; rebuild the map "
                     "with this hepgnn's 'hepgnn modulemap'",
                     where, version, kModuleMapVersion);
        HEPGNN_CHECK(j.at("element").get<std::string>() == "layer",
                     "{}: element '{}' is not supported (only 'layer')", where,
                     j.at("element").get<std::string>());
        const json& geo = j.at("geometry");
        map.geometry = geo.at("name").get<std::string>();
        for (const json& l : geo.at("layers")) {
            Layer layer;
            layer.volume_id = json_integer<int32_t>(l.at("volume_id"), where);
            layer.layer_id = json_integer<int32_t>(l.at("layer_id"), where);
            const auto kind = l.at("kind").get<std::string>();
            HEPGNN_CHECK(kind == "barrel" || kind == "endcap",
                         "{}: layer (volume {}, layer {}) has kind '{}' (barrel or endcap)", where,
                         layer.volume_id, layer.layer_id, kind);
            layer.kind = kind == "barrel" ? LayerKind::kBarrel : LayerKind::kEndcap;
            layer.r_min = l.at("r").at(0).get<double>();
            layer.r_max = l.at("r").at(1).get<double>();
            layer.z_min = l.at("z").at(0).get<double>();
            layer.z_max = l.at("z").at(1).get<double>();
            layer.n_hits = json_integer<int64_t>(l.at("n_hits"), where);
            map.layers.push_back(layer);
        }
        const json& lf = j.at("learned_from");
        map.provenance.n_events = json_integer<int64_t>(lf.at("events"), where);
        map.provenance.n_particles = json_integer<int64_t>(lf.at("particles"), where);
        map.provenance.n_segments = json_integer<int64_t>(lf.at("segments"), where);
        map.provenance.pt_min = lf.at("pt_min").get<double>();
        map.provenance.coverage = lf.at("coverage").get<double>();
        map.provenance.margin = lf.at("margin").get<double>();
        map.provenance.n_pruned_pairs = json_integer<int64_t>(lf.at("pruned_pairs"), where);
        map.provenance.n_tightened_pairs = json_integer<int64_t>(lf.at("tightened_pairs"), where);
        map.provenance.pruned_share = lf.at("pruned_segment_share").get<double>();
        map.provenance.max_segment_loss = lf.at("max_segment_loss").get<double>();
        for (const json& p : j.at("pairs")) {
            Pair pair;
            const auto inner = p.at("inner"), outer = p.at("outer");
            pair.inner = map.layer_index(json_integer<int32_t>(inner.at(0), where),
                                         json_integer<int32_t>(inner.at(1), where));
            pair.outer = map.layer_index(json_integer<int32_t>(outer.at(0), where),
                                         json_integer<int32_t>(outer.at(1), where));
            HEPGNN_CHECK(pair.inner >= 0 && pair.outer >= 0,
                         "{}: pair {} -> {} names a layer the map's geometry does not list; "
                         "rebuild it with 'hepgnn modulemap'",
                         where, inner.dump(), outer.dump());
            pair.n_segments = json_integer<int64_t>(p.at("n_segments"), where);
            for (int q = 0; q < kNumSegmentQuantities; ++q) {
                const json& r = p.at("ranges").at(kSegmentQuantityNames[q]);
                pair.range[q] = {r.at(0).get<double>(), r.at(1).get<double>()};
            }
            map.pairs.push_back(pair);
        }
    } catch (const json::exception& e) {
        HEPGNN_FAIL("{}: malformed module map ({}); rebuild it with 'hepgnn modulemap'", where,
                    e.what());
    }
    map.validate(where);
    return map;
}

}  // namespace hepgnn::data
