#include "trainer/train_step.hpp"

#include <torch/torch.h>

#include "comm/communicator.hpp"
#include "trainer/batch.hpp"
#include "trainer/gradient_sync.hpp"
#include "trainer/optimization.hpp"

namespace hepgnn::trainer {

TrainStep::TrainStep(models::GnnModel& model, torch::optim::Optimizer& optimizer,
                     comm::Communicator& comm, Config config, comm::Communicator* gradient_comm)
    : model_(model),
      optimizer_(optimizer),
      comm_(comm),
      config_(config),
      params_(model.parameters()),
      device_(params_.empty() ? torch::Device(torch::kCPU) : params_[0].device()),
      scaler_(config.precision == Precision::float16) {
    pos_weight_ = torch::full({1}, config_.pos_weight, torch::TensorOptions(device_));
    if (comm.size() > 1)
        sync_ = std::make_unique<GradientSync>(comm, gradient_comm ? *gradient_comm : comm, params_,
                                               config_.reducer);
}

TrainStep::~TrainStep() = default;

TrainStep::Result TrainStep::run(const std::vector<const data::EventGraph*>& graphs, double lr,
                                 StageTimes& times) {
    Batch batch;
    {
        ScopedStage t(times, "batch");
        batch = make_batch(graphs, &config_.edge_weights);
        if (!device_.is_cpu()) {
            batch.input = batch.input.to(device_);
            batch.y = batch.y.to(device_);
            if (batch.weight.defined()) batch.weight = batch.weight.to(device_);
        }
    }
    // Edges of this step on every rank: the global count normalises the loss,
    // the max/mean is the step's load imbalance.
    const auto rank_edges = comm_.allgather_value<int64_t>(batch.n_edges);
    Result result;
    int64_t max_edges = 0;
    for (int64_t e : rank_edges) {
        result.edges += e;
        max_edges = std::max(max_edges, e);
    }
    result.imbalance =
        result.edges > 0 ? double(max_edges) * comm_.size() / double(result.edges) : 1.0;

    double loss_sum = 0;
    optimizer_.zero_grad();
    if (sync_) sync_->begin_step();
    if (batch.n_edges > 0) {
        torch::Tensor loss;
        {
            ScopedStage t(times, "forward");
            torch::Tensor logits;
            {
                AutocastScope autocast(config_.precision, device_);
                logits = model_.forward(batch.input);
            }
            auto sum = torch::binary_cross_entropy_with_logits(
                logits.to(torch::kFloat32), batch.y, batch.weight, pos_weight_, at::Reduction::Sum);
            loss_sum = sum.item<double>();
            loss = sum / double(result.edges);
        }
        ScopedStage t(times, "backward");
        scaler_.scale_loss(loss).backward();
    }
    double scalars[2] = {loss_sum, double(batch.n_graphs)};
    {
        ScopedStage t(times, "allreduce");
        if (sync_) sync_->finish();
        comm_.allreduce(scalars, 2);
    }
    {
        ScopedStage t(times, "optimizer");
        for (auto& p : params_)  // a rank with no edges this step has no .grad yet
            if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        // Gradients are already summed over ranks, so every rank decides alike (Note [Mixed
        // precision]).
        const bool finite = scaler_.unscale(params_);
        scaler_.update(finite);
        if (finite) {
            if (config_.grad_clip > 0)
                torch::nn::utils::clip_grad_norm_(params_, config_.grad_clip);
            set_learning_rate(optimizer_, lr);
            optimizer_.step();
        }
    }
    result.loss = result.edges > 0 ? scalars[0] / double(result.edges) : 0.0;
    result.graphs = static_cast<int64_t>(std::llround(scalars[1]));
    return result;
}

}  // namespace hepgnn::trainer
