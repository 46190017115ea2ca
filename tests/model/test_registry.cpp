#include <gtest/gtest.h>
#include <torch/torch.h>

#include "core/error.hpp"
#include "models/agnn.hpp"
#include "models/gnn_model.hpp"
#include "models/interaction_network.hpp"

namespace hepgnn::models {
namespace {

/// The message of the hepgnn::Error that make_model throws for `config` ("" if none).
std::string error_of(const ModelConfig& config) {
    try {
        make_model(config);
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(Registry, BuildsModelsByName) {
    EXPECT_EQ(model_names(), (std::vector<std::string>{"interaction_network", "agnn"}));
    ModelConfig c;
    auto in = make_model(c);
    EXPECT_NE(dynamic_cast<InteractionNetwork*>(in.get()), nullptr);
    EXPECT_EQ(count_parameters(*in), 63425);
    c.name = "agnn";
    c.message_passing = "dense";
    auto agnn = make_model(c);
    ASSERT_NE(dynamic_cast<Agnn*>(agnn.get()), nullptr);
    EXPECT_EQ(dynamic_cast<Agnn*>(agnn.get())->message_passing(), MessagePassing::dense);
}

TEST(Registry, UnknownNameListsTheKnownOnes) {
    ModelConfig c;
    c.name = "gcn";
    const auto msg = error_of(c);
    EXPECT_TRUE(contains(msg, "model.name")) << msg;
    EXPECT_TRUE(contains(msg, "'gcn'")) << msg;
    EXPECT_TRUE(contains(msg, "interaction_network, agnn")) << msg;
}

TEST(Registry, BadValuesNameTheirKey) {
    struct Case {
        std::function<void(ModelConfig&)> change;
        std::string key;
    };
    const std::vector<Case> cases = {
        {[](ModelConfig& c) { c.aggregation = "median"; }, "model.aggregation"},
        {[](ModelConfig& c) { c.activation = "gelu"; }, "model.activation"},
        {[](ModelConfig& c) { c.message_passing = "fast"; }, "model.message_passing"},
        {[](ModelConfig& c) { c.hidden_dim = 0; }, "model.hidden_dim"},
        {[](ModelConfig& c) { c.input_dim = -1; }, "model.input_dim"},
        {[](ModelConfig& c) { c.n_graph_iters = 0; }, "model.n_graph_iters"},
        {[](ModelConfig& c) { c.n_mlp_layers = 0; }, "model.n_mlp_layers"},
        // Valid values that the named model does not support.
        {[](ModelConfig& c) { c.message_passing = "dense"; }, "model.message_passing"},
        {[](ModelConfig& c) { c.name = "agnn", c.aggregation = "max"; }, "model.aggregation"},
    };
    for (const auto& k : cases) {
        ModelConfig c;
        k.change(c);
        const auto msg = error_of(c);
        EXPECT_TRUE(contains(msg, k.key))
            << "expected an error naming " << k.key << ", got '" << msg << "'";
    }
    ModelConfig bad;
    bad.aggregation = "median";
    EXPECT_TRUE(contains(error_of(bad), "sum, mean, max, sum_max")) << error_of(bad);
    // Constructors validate too.
    EXPECT_THROW(InteractionNetwork{bad}, Error);
}

}  // namespace
}  // namespace hepgnn::models
