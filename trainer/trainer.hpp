// The training loop (reader -> store -> batcher -> model -> reducer ->
// optimizer). Written for N ranks from the start: every rank trains on its
// shard, the loss is normalised by the global edge count of the step, and
// gradient sums are allreduced, so an update equals single-process training
// on the union of the ranks' graphs (Note [Global loss normalisation]).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "comm/gradient_reducer.hpp"
#include "data/compressed_store.hpp"
#include "models/gnn_model.hpp"
#include "trainer/edge_weights.hpp"
#include "trainer/optimization.hpp"

namespace hepgnn::comm {
class Communicator;
}

namespace hepgnn::trainer {

struct TrainerConfig {
    std::filesystem::path output_dir;  // checkpoints/, metrics.jsonl, config.yaml
    std::filesystem::path train_file;  // graph file (HDF5)
    std::filesystem::path valid_file;  // graph file; empty = no validation
    int64_t max_train_graphs = 0;      // 0 = all
    int64_t max_valid_graphs = 0;      // 0 = all
    models::ModelConfig model;
    OptimizerConfig optimizer;
    int64_t epochs = 10;
    uint64_t seed = 1;                      // model init and data order
    int threads = 0;                        // intra-op threads per rank; 0 = leave torch's default
    int64_t batch_edges = 200000;           // edge budget of one rank's step
    std::string resume = "auto";            // auto: continue from last.ckpt if present | never
    double pos_weight = 1.0;                // weight of true edges in the BCE loss
    EdgeWeights edge_weights;               // per-edge loss weights (training graphs' truth)
    int64_t log_every_steps = 10;           // metrics.jsonl training line interval
    double cut = 0.5;                       // score cut for validation efficiency/purity
    std::string config_yaml;                // the full config, saved beside the outputs
    std::string device = "cpu";             // cpu | cuda
    std::string precision = "float32";      // float32 | bfloat16 | float16 (cuda only)
    std::string backend = "auto";           // auto | mpi | nccl
    int local_rank = 0;                     // picks the GPU on a node
    comm::GradientReducer::Config reducer;  // gradient buckets (multi-rank runs)
    comm::Deadlines deadlines;              // of every collective (Note [Collective deadlines])
    data::CompressedGraphStore::Config store;  // in-memory compression of the training shard
    int64_t check_every_steps = 100;           // cross-rank parameter checksum interval (0: off)
};

struct TrainSummary {
    int64_t epochs_done = 0;
    int64_t steps_done = 0;
    int64_t skipped_steps = 0;  // float16: steps skipped for non-finite gradients
    double last_train_loss = 0;
    double valid_loss = 0, edge_efficiency = 0, edge_purity = 0, auc = 0;
    double train_seconds = 0;
    double graphs_per_s = 0, edges_per_s = 0;                // mean over epochs after the first
    double mean_epoch_time_s = 0;                            // same epochs
    std::map<std::string, double> mean_stage_s;              // per epoch, same epochs, this rank
    double mean_step_imbalance = 1.0;                        // max/mean edges of a step over ranks
    double shard_imbalance = 1.0;                            // max/mean edges of a rank's shard
    int64_t train_graphs = 0, train_edges = 0;               // global
    double store_raw_bytes = 0, store_compressed_bytes = 0;  // over all ranks
    int64_t n_parameters = 0;
    int64_t steps_per_epoch = 0;
    int stop_signal = 0;  // non-zero: stopped early on this signal, last.ckpt holds the state
};

/// Trains until config.epochs, or until a stop signal (core/stop_signal.hpp)
/// reaches any rank: then all ranks stop at the same step boundary, rank 0
/// writes last.ckpt with the position inside the epoch, and the summary's
/// stop_signal is set. Resuming from it continues bit-identically on CPU.
TrainSummary train(const TrainerConfig& config, comm::Communicator& comm);

}  // namespace hepgnn::trainer
