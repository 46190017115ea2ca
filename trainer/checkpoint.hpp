// Checkpoints: model parameters, optimizer state, progress (epoch, step,
// best validation loss), the model config and the torch RNG state, in one
// file written atomically (core/atomic_file.hpp). Loading checks the model
// config first, so a checkpoint of another model gets a clear error rather
// than a shape mismatch deep in torch.
#pragma once

#include <filesystem>
#include <string>

#include "models/gnn_model.hpp"

namespace torch::optim {
class Optimizer;
}

namespace hepgnn::trainer {

struct CheckpointState {
    int64_t epoch = 0;  // epochs completed
    int64_t step = 0;   // global optimizer steps completed
    double best_valid_loss = 0;
    bool has_best = false;
    models::ModelConfig model;
};

void save_checkpoint(const std::filesystem::path& path, models::GnnModel& model,
                     torch::optim::Optimizer* optimizer, const CheckpointState& state);

/// Reads only the state (cheap); throws hepgnn::Error if `path` is not a
/// hepgnn checkpoint.
CheckpointState read_checkpoint_state(const std::filesystem::path& path);

/// Loads parameters (and optimizer state when given) into `model`, whose
/// config must match the checkpoint's. Restores the torch RNG state.
CheckpointState load_checkpoint(const std::filesystem::path& path, models::GnnModel& model,
                                torch::optim::Optimizer* optimizer);

/// Model config <-> JSON text (also used by evaluate/export).
std::string model_config_to_json(const models::ModelConfig& config);
models::ModelConfig model_config_from_json(const std::string& json, const std::string& where);
/// A list of the fields in which two model configs differ ("" when equal).
std::string model_config_difference(const models::ModelConfig& a, const models::ModelConfig& b);

}  // namespace hepgnn::trainer
