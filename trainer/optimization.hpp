// Optimizers (Adam, AdamW, SGD) and the learning-rate schedule: warm-up,
// then constant, step or cosine decay, with the peak rate scaled by the
// number of ranks (none | linear | sqrt): a larger global batch needs a
// larger rate, reached gradually (Goyal et al.; as in HEP.TrkX).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <torch/optim/optimizer.h>

namespace hepgnn::trainer {

struct OptimizerConfig {
    std::string name = "adam";          // adam | adamw | sgd
    double learning_rate = 1e-3;        // base rate for one rank
    double weight_decay = 0.0;          // L2 (adam, sgd) or decoupled (adamw)
    double momentum = 0.9;              // sgd only
    std::string lr_scaling = "none";    // none | linear | sqrt in the number of ranks
    double warmup_epochs = 0.0;         // linear ramp to the peak rate over this many epochs
    std::string schedule = "constant";  // constant | step | cosine
    double step_epochs = 10.0;          // step: multiply by gamma every this many epochs
    double gamma = 0.5;                 // step: decay factor
    double min_lr_fraction = 0.01;      // cosine: final rate as a fraction of the peak
    double grad_clip = 0.0;             // max global gradient norm; 0 = off
};

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> parameters,
                                                        const OptimizerConfig& config);

class LrSchedule {
public:
    LrSchedule(const OptimizerConfig& config, int world_size, int64_t steps_per_epoch,
               int64_t epochs);
    /// Learning rate of global step `step` (0-based).
    double at(int64_t step) const;
    double peak() const { return peak_; }

private:
    OptimizerConfig config_;
    double peak_;
    int64_t warmup_steps_, steps_per_epoch_, total_steps_;
};

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace hepgnn::trainer
