// Edge-classifying graph neural networks and their registry by name.
// A model maps a GraphInput to one logit per edge (apply a sigmoid for
// scores). Every model is a torch::nn::Module whose parameters the trainer
// optimises and reduces across ranks.
#pragma once

#include <torch/nn/module.h>

#include <memory>
#include <string>
#include <vector>

#include "models/graph_input.hpp"

namespace hepgnn::models {

struct ModelConfig {
    std::string name = "interaction_network";  // interaction_network | agnn
    int64_t input_dim = 3;                     // node features F
    int64_t hidden_dim = 64;                   // H
    int64_t n_graph_iters = 8;                 // message-passing iterations (weights shared)
    int64_t n_mlp_layers = 2;         // L: blocks of [Linear, LayerNorm, activation] per MLP
                                      // (interaction_network; agnn has HEP.TrkX's fixed depths)
    std::string aggregation = "sum";  // interaction_network: sum | mean | max | sum_max
                                      // (agnn sums attention-weighted messages: sum only)
    std::string activation = "relu";  // relu | tanh | silu (HEP.TrkX's agnn uses tanh)
    bool layer_norm = true;
    std::string edge_features = "none";  // interaction_network: none | differences (x_r - x_s
                                         // of the raw node features, into the edge encoder)
    bool checkpointing = false;          // recompute each iteration in backward (memory for time)
    std::string message_passing = "sparse";  // agnn: sparse (scatter-add) | dense (Ri/Ro);
                                             // interaction_network: sparse only
};

class GnnModel : public torch::nn::Module {
public:
    explicit GnnModel(ModelConfig config) : config_(std::move(config)) {}
    /// Logits, float32 [E], in the edge order of `graph`.
    virtual torch::Tensor forward(const GraphInput& graph) = 0;
    /// Inference (no-grad) forwards with bfloat16 matrix products (Note [bfloat16 products] in
    /// models/ops/panel_matmul.hpp); false where the model has no such forward.
    virtual bool set_bfloat16_inference(bool /*on*/) { return false; }
    const ModelConfig& config() const { return config_; }

protected:
    ModelConfig config_;
};

/// The registry: builds the model named by config.name, or throws
/// hepgnn::Error listing the known names.
std::shared_ptr<GnnModel> make_model(const ModelConfig& config);
std::vector<std::string> model_names();

/// Checks `config` (positive sizes, known name/activation/aggregation/message_passing, options
/// the named model supports) and throws hepgnn::Error naming the offending key, e.g.
/// "model.aggregation". make_model and every model constructor call it.
void validate_model_config(const ModelConfig& config);

/// Number of scalar parameters.
int64_t count_parameters(const torch::nn::Module& module);

}  // namespace hepgnn::models
