// One data-parallel optimizer step (Note [Global loss normalisation] in
// trainer.cpp): batch -> forward -> loss / global edges -> backward with
// bucketed gradient allreduce -> clip -> optimizer. The training loop and the
// equivalence tests share it.
#pragma once

#include <memory>
#include <vector>

#include <torch/types.h>

#include "comm/gradient_reducer.hpp"
#include "core/stage_timer.hpp"
#include "data/event_graph.hpp"
#include "models/gnn_model.hpp"
#include "trainer/edge_weights.hpp"
#include "trainer/mixed_precision.hpp"

namespace torch::optim {
class Optimizer;
}

namespace hepgnn::trainer {

class GradientSync;

class TrainStep {
public:
    struct Config {
        double pos_weight = 1.0;   // weight of true edges in the BCE loss
        EdgeWeights edge_weights;  // per-edge weights (acorn style), times pos_weight
        double grad_clip = 0.0;    // max global gradient norm; 0 = off
        Precision precision = Precision::float32;  // Note [Mixed precision]
        comm::GradientReducer::Config reducer;
    };
    struct Result {
        double loss = 0;         // mean loss over the step's edges on all ranks
        int64_t edges = 0;       // edges on all ranks
        int64_t graphs = 0;      // graphs on all ranks
        double imbalance = 1.0;  // max/mean edges over ranks
    };

    /// `gradient_comm` reduces the gradient buckets (e.g. NCCL); nullptr = `comm`.
    TrainStep(models::GnnModel& model, torch::optim::Optimizer& optimizer, comm::Communicator& comm,
              Config config, comm::Communicator* gradient_comm = nullptr);
    ~TrainStep();

    /// One step on this rank's share of a global batch, at learning rate `lr`.
    Result run(const std::vector<const data::EventGraph*>& graphs, double lr, StageTimes& times);

    /// The float16 loss scale (saved with checkpoints; 1 and inert otherwise).
    LossScaler& scaler() { return scaler_; }

private:
    models::GnnModel& model_;
    torch::optim::Optimizer& optimizer_;
    comm::Communicator& comm_;
    Config config_;
    std::vector<torch::Tensor> params_;
    torch::Tensor pos_weight_;
    torch::Device device_;
    std::unique_ptr<GradientSync> sync_;
    LossScaler scaler_;
};

}  // namespace hepgnn::trainer
