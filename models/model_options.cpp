#include "models/model_options.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace hepgnn::models {

std::vector<std::string> aggregation_names() {
    return {"sum", "mean", "max", "sum_max"};
}

Aggregation parse_aggregation(const std::string& name, const std::string& key) {
    if (const auto a = ops::aggregation_from_name(name)) return *a;
    HEPGNN_FAIL("{}: unknown aggregation '{}'; expected one of: {}", key, name,
                fmt::join(aggregation_names(), ", "));
}

std::vector<std::string> activation_names() {
    return {"relu", "tanh", "silu"};
}

Activation parse_activation(const std::string& name, const std::string& key) {
    if (const auto a = ops::activation_from_name(name)) return *a;
    HEPGNN_FAIL("{}: unknown activation '{}'; expected one of: {}", key, name,
                fmt::join(activation_names(), ", "));
}

bool parse_edge_differences(const std::string& name, const std::string& key) {
    if (name == "none" || name == "differences") return name == "differences";
    HEPGNN_FAIL("{}: unknown value '{}'; expected none or differences", key, name);
}

}  // namespace hepgnn::models
