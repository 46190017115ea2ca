// The enumerated choices of a model config (model.aggregation, model.activation), parsed once
// for the models and the ONNX exporter alike. Torch-free.
#pragma once

#include <string>
#include <vector>

#include "models/ops/row_math.hpp"

namespace hepgnn::models {

using ops::Activation;  // models/ops (libhepgnn_ops.so) holds the enums: models use it
using ops::Aggregation;

/// "sum" | "mean" | "max" | "sum_max"; otherwise hepgnn::Error naming `key`.
Aggregation parse_aggregation(const std::string& name,
                              const std::string& key = "model.aggregation");
std::vector<std::string> aggregation_names();

/// "relu" | "tanh" | "silu"; otherwise hepgnn::Error naming `key` (the config key).
Activation parse_activation(const std::string& name, const std::string& key = "model.activation");
std::vector<std::string> activation_names();

}  // namespace hepgnn::models
