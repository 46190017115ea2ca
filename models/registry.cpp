// The model registry: model names to constructors, and the config checks shared by all models.
#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <utility>

#include "core/error.hpp"
#include "models/agnn.hpp"
#include "models/gnn_model.hpp"
#include "models/interaction_network.hpp"
#include "models/mlp.hpp"

namespace hepgnn::models {
namespace {

using Factory = std::function<std::shared_ptr<GnnModel>(const ModelConfig&)>;

const std::vector<std::pair<std::string, Factory>>& registry() {
    static const std::vector<std::pair<std::string, Factory>> models = {
        {"interaction_network",
         [](const ModelConfig& c) { return std::make_shared<InteractionNetwork>(c); }},
        {"agnn", [](const ModelConfig& c) { return std::make_shared<Agnn>(c); }},
    };
    return models;
}

const Factory* find_factory(const std::string& name) {
    for (const auto& [n, factory] : registry())
        if (n == name) return &factory;
    return nullptr;
}

// The bounds of the training schema (app/training_config.cpp), so a config
// read back from a checkpoint is held to what a config file may say.
void check_in_range(int64_t value, int64_t max, const char* key, const char* what) {
    HEPGNN_CHECK(value >= 1 && value <= max, "{} = {}: {} must be between 1 and {}", key, value,
                 what, max);
}

}  // namespace

std::vector<std::string> model_names() {
    std::vector<std::string> names;
    for (const auto& entry : registry()) names.push_back(entry.first);
    return names;
}

void validate_model_config(const ModelConfig& c) {
    HEPGNN_CHECK(find_factory(c.name) != nullptr,
                 "model.name: unknown model '{}'; expected one of: {}", c.name,
                 fmt::join(model_names(), ", "));
    check_in_range(c.input_dim, kMaxInputDim, "model.input_dim", "the number of node features");
    check_in_range(c.hidden_dim, kMaxHiddenDim, "model.hidden_dim", "the hidden width");
    check_in_range(c.n_graph_iters, kMaxGraphIters, "model.n_graph_iters",
                   "the number of message-passing iterations");
    check_in_range(c.n_mlp_layers, kMaxMlpLayers, "model.n_mlp_layers",
                   "the number of layers per MLP");
    parse_activation(c.activation, "model.activation");
    parse_aggregation(c.aggregation, "model.aggregation");
    parse_message_passing(c.message_passing, "model.message_passing");
    parse_edge_differences(c.edge_features, "model.edge_features");
    if (c.name == "interaction_network") {
        HEPGNN_CHECK(c.message_passing == "sparse",
                     "model.message_passing = {}: interaction_network supports only 'sparse' "
                     "(the dense Ri/Ro form exists for agnn)",
                     c.message_passing);
    } else if (c.name == "agnn") {
        HEPGNN_CHECK(c.aggregation == "sum",
                     "model.aggregation = {}: agnn aggregates attention-weighted sums; only "
                     "'sum' is supported (other aggregations exist for interaction_network)",
                     c.aggregation);
        HEPGNN_CHECK(c.edge_features == "none",
                     "model.edge_features = {}: agnn takes node features only; edge features "
                     "exist for interaction_network",
                     c.edge_features);
    }
}

std::shared_ptr<GnnModel> make_model(const ModelConfig& config) {
    validate_model_config(config);
    return (*find_factory(config.name))(config);
}

int64_t count_parameters(const torch::nn::Module& module) {
    int64_t n = 0;
    for (const auto& p : module.parameters(/*recurse=*/true)) n += p.numel();
    return n;
}

}  // namespace hepgnn::models
