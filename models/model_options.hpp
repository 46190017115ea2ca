// The enumerated choices of a model config (model.aggregation, model.activation), parsed once
// for the models and the ONNX exporter alike. Torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/ops/row_math.hpp"

namespace hepgnn::models {

using ops::Activation;  // models/ops (libhepgnn_ops.so) holds the enums: models use it
using ops::Aggregation;

/// Upper bounds of the model config's sizes (lower bound 1), checked by the config schema and
/// again by the model registry for configs read from checkpoints.
inline constexpr int64_t kMaxInputDim = 1024;
inline constexpr int64_t kMaxHiddenDim = 4096;
inline constexpr int64_t kMaxGraphIters = 64;
inline constexpr int64_t kMaxMlpLayers = 16;

/// "sum" | "mean" | "max" | "sum_max"; otherwise hepgnn::Error naming `key`.
Aggregation parse_aggregation(const std::string& name,
                              const std::string& key = "model.aggregation");
std::vector<std::string> aggregation_names();

/// "relu" | "tanh" | "silu"; otherwise hepgnn::Error naming `key` (the config key).
Activation parse_activation(const std::string& name, const std::string& key = "model.activation");
std::vector<std::string> activation_names();

/// model.edge_features: "none" -> false, "differences" (x_r - x_s into the edge encoder) ->
/// true; otherwise hepgnn::Error naming `key`.
bool parse_edge_differences(const std::string& name,
                            const std::string& key = "model.edge_features");

}  // namespace hepgnn::models
