// Torch glue for comm::GradientReducer: bucket tensors on the parameters'
// device, autograd hooks that copy each gradient into its bucket slot as soon
// as backward produces it (so buckets are reduced while backward continues),
// and the copy back into .grad before the optimizer step.
#pragma once

#include <memory>
#include <vector>

#include <torch/types.h>

#include "comm/gradient_reducer.hpp"

namespace hepgnn::trainer {

class GradientSync {
public:
    /// `host` carries the set-up's checks, `device` the bucket allreduces
    /// (the same communicator on CPUs; MPI and NCCL on GPUs).
    GradientSync(comm::Communicator& host, comm::Communicator& device,
                 std::vector<torch::Tensor> params, comm::GradientReducer::Config config);
    /// Call before backward.
    void begin_step();
    /// Call after backward: waits for every bucket and writes the summed
    /// gradients into each parameter's .grad.
    void finish();
    double wait_seconds() const { return reducer_->wait_seconds(); }
    const comm::GradientReducer& reducer() const { return *reducer_; }
    size_t num_buckets() const { return buckets_.size(); }
    /// The bucket tensors: the only memory the device communicator is given.
    const std::vector<torch::Tensor>& buckets() const { return buckets_; }

private:
    std::vector<torch::Tensor> params_;
    std::vector<torch::Tensor> buckets_;
    std::vector<torch::Tensor> views_;  // per parameter: its slot, shaped like the parameter
    std::unique_ptr<comm::GradientReducer> reducer_;
};

}  // namespace hepgnn::trainer
