// Checkpoints: model parameters, optimizer state, progress (epoch, step,
// best validation loss), the model config and the torch RNG state, in one
// file written atomically (core/atomic_file.hpp). Loading checks the model
// config first, so a checkpoint of another model gets a clear error rather
// than a shape mismatch deep in torch.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/feature_info.hpp"
#include "models/gnn_model.hpp"

namespace torch::optim {
class Optimizer;
}

namespace hepgnn::trainer {

/// Where a run stopped inside an epoch (a preemption checkpoint), so a resumed
/// run continues with the same data order and the same running sums; all zero
/// at an epoch boundary.
struct EpochProgress {
    int64_t steps_done = 0;  // steps of epoch `CheckpointState::epoch` already taken
    double loss_sum = 0;     // sum of loss * edges over those steps
    int64_t edges = 0, graphs = 0;
    double window_loss_sum = 0;  // the same since the last metrics.jsonl training line
    int64_t window_edges = 0, window_graphs = 0;
    double imbalance_sum = 0;
    // Note [Elastic resume] (trainer/epoch_plan.hpp): the run's world size, whether
    // this epoch was re-planned, and the file indices of its graphs trained so far.
    int64_t world_size = 0;  // 0: a checkpoint from before this was kept
    bool replanned = false;
    std::vector<int64_t> done_graphs;  // sorted
};

struct CheckpointState {
    int64_t epoch = 0;  // epochs completed
    int64_t step = 0;   // global optimizer steps completed
    double best_valid_loss = 0;
    bool has_best = false;
    EpochProgress in_epoch;  // progress inside epoch `epoch` (0-based), for a mid-epoch stop
    double loss_scale = 1;   // float16 loss scale (Note [Mixed precision]); 1 otherwise
    models::ModelConfig model;
    data::FeatureInfo features;  // of the training data; empty in checkpoints before it was kept
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

/// The model a checkpoint holds, built from its config and loaded with its
/// parameters (no optimizer): what evaluate, export and infer start from.
/// Throws hepgnn::Error naming the file for unknown models or damaged files.
/// `state`, when given, receives the checkpoint's state (e.g. its features), so
/// callers need not read the file again.
std::shared_ptr<models::GnnModel> load_model(const std::filesystem::path& path,
                                             CheckpointState* state = nullptr);

/// Model config <-> JSON text (also used by evaluate/export).
std::string model_config_to_json(const models::ModelConfig& config);
models::ModelConfig model_config_from_json(const std::string& json, const std::string& where);
/// A list of the fields in which two model configs differ ("" when equal).
std::string model_config_difference(const models::ModelConfig& a, const models::ModelConfig& b);

}  // namespace hepgnn::trainer
