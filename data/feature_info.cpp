#include "data/feature_info.hpp"

#include <fmt/format.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "core/error.hpp"

namespace hepgnn::data {

std::string FeatureInfo::describe() const {
    std::string out;
    for (size_t i = 0; i < names.size(); ++i)
        out += fmt::format("{}{}/{}", i ? ", " : "", names[i], i < scale.size() ? scale[i] : 1.0f);
    return out;
}

bool FeatureInfo::same_as(const FeatureInfo& other) const {
    if (names != other.names || scale.size() != other.scale.size()) return false;
    for (size_t i = 0; i < scale.size(); ++i)
        if (std::abs(scale[i] - other.scale[i]) > 1e-6f * std::abs(scale[i])) return false;
    return true;
}

std::string FeatureInfo::to_json() const {
    return nlohmann::json{{"names", names}, {"scale", scale}}.dump();
}

FeatureInfo FeatureInfo::from_json(const std::string& text, const std::string& where) {
    FeatureInfo f;
    try {
        const auto j = nlohmann::json::parse(text);
        f.names = j.at("names").get<std::vector<std::string>>();
        f.scale = j.at("scale").get<std::vector<float>>();
    } catch (const std::exception& e) {
        HEPGNN_FAIL("{}: cannot read the feature description: {}", where, e.what());
    }
    HEPGNN_CHECK(f.names.size() == f.scale.size(),
                 "{}: the feature description has {} names but {} scales", where, f.names.size(),
                 f.scale.size());
    return f;
}

void check_features_match(const FeatureInfo& model_features, const std::string& model,
                          const FeatureInfo& data_features, const std::string& data) {
    if (model_features.empty()) return;
    HEPGNN_CHECK(model_features.same_as(data_features),
                 "{} was trained on features {} but {} holds {}; prepare the graphs with the "
                 "training data's feature_scale (hepgnn inspect shows it)",
                 model, model_features.describe(), data, data_features.describe());
}

}  // namespace hepgnn::data
