// Which node features a graph file holds and how they were scaled
// (DESIGN §3.2: root attributes feature_names and feature_scale). A model is
// only valid on features scaled as in its training data, so checkpoints and
// exported models carry this too, and every consumer checks it.
#pragma once

#include <string>
#include <vector>

namespace hepgnn::data {

struct FeatureInfo {
    std::vector<std::string> names;  // e.g. {"r", "phi", "z"}
    std::vector<float> scale;        // divide raw value by this to get the stored one

    bool empty() const { return names.empty(); }
    /// "r/1000, phi/0.03927, z/100".
    std::string describe() const;
    /// Same names and scales (to float rounding).
    bool same_as(const FeatureInfo& other) const;
    /// {"names": [...], "scale": [...]}; from_json throws hepgnn::Error naming `where`.
    std::string to_json() const;
    static FeatureInfo from_json(const std::string& text, const std::string& where);
};

/// Key of the feature description (FeatureInfo::to_json) in exported models: a TorchScript
/// extra file, an ONNX metadata property.
inline constexpr const char* kFeaturesMetadataKey = "hepgnn.features";

/// Throws hepgnn::Error unless `model_features` is empty (unknown: an older
/// checkpoint) or the same as `data_features`. `model` and `data` name the two
/// sides in the message, e.g. "checkpoint 'best.ckpt'" and "'test.h5'".
void check_features_match(const FeatureInfo& model_features, const std::string& model,
                          const FeatureInfo& data_features, const std::string& data);

}  // namespace hepgnn::data
