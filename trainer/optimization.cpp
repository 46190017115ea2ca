#include "trainer/optimization.hpp"

#include <torch/optim.h>

#include <cmath>

#include "core/error.hpp"

namespace hepgnn::trainer {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(std::vector<torch::Tensor> parameters,
                                                        const OptimizerConfig& c) {
    if (c.name == "adam") {
        return std::make_unique<torch::optim::Adam>(
            parameters, torch::optim::AdamOptions(c.learning_rate).weight_decay(c.weight_decay));
    }
    if (c.name == "adamw") {
        return std::make_unique<torch::optim::AdamW>(
            parameters, torch::optim::AdamWOptions(c.learning_rate).weight_decay(c.weight_decay));
    }
    if (c.name == "sgd") {
        return std::make_unique<torch::optim::SGD>(parameters,
                                                   torch::optim::SGDOptions(c.learning_rate)
                                                       .momentum(c.momentum)
                                                       .weight_decay(c.weight_decay));
    }
    HEPGNN_FAIL("optimizer.name '{}' is not one of: adam, adamw, sgd", c.name);
}

LrSchedule::LrSchedule(const OptimizerConfig& config, int world_size, int64_t steps_per_epoch,
                       int64_t epochs)
    : config_(config), steps_per_epoch_(std::max<int64_t>(1, steps_per_epoch)) {
    double scale = 1.0;
    if (config.lr_scaling == "linear")
        scale = world_size;
    else if (config.lr_scaling == "sqrt")
        scale = std::sqrt(double(world_size));
    else
        HEPGNN_CHECK(config.lr_scaling == "none",
                     "optimizer.lr_scaling '{}' is not one of: none, linear, sqrt",
                     config.lr_scaling);
    HEPGNN_CHECK(
        config.schedule == "constant" || config.schedule == "step" || config.schedule == "cosine",
        "optimizer.schedule '{}' is not one of: constant, step, cosine", config.schedule);
    peak_ = config.learning_rate * scale;
    warmup_steps_ = static_cast<int64_t>(std::llround(config.warmup_epochs * steps_per_epoch_));
    total_steps_ = std::max<int64_t>(1, steps_per_epoch_ * epochs);
}

double LrSchedule::at(int64_t step) const {
    if (step < warmup_steps_) return peak_ * double(step + 1) / double(warmup_steps_);
    if (config_.schedule == "step") {
        const double epoch = double(step) / double(steps_per_epoch_);
        return peak_ * std::pow(config_.gamma, std::floor(epoch / config_.step_epochs));
    }
    if (config_.schedule == "cosine") {
        const double span = std::max<int64_t>(1, total_steps_ - warmup_steps_);
        const double t = std::min(1.0, double(step - warmup_steps_) / span);
        const double floor = peak_ * config_.min_lr_fraction;
        return floor + (peak_ - floor) * 0.5 * (1.0 + std::cos(M_PI * t));
    }
    return peak_;
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
    for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace hepgnn::trainer
