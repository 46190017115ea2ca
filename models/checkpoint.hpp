// Activation checkpointing for libtorch's C++ API, which has no torch.utils.checkpoint.
//
// Note [Checkpointing]
// ~~~~~~~~~~~~~~~~~~~~
// checkpoint(fn, inputs, parameters) returns fn(inputs) but keeps none of fn's intermediate
// tensors: forward runs fn under no-grad and saves only `inputs`; backward reruns fn on
// detached copies of the inputs with grad enabled and differentiates that recomputation with
// torch::autograd::grad. Peak memory then grows with one call of fn instead of all of them, for
// the cost of a second forward of fn. The parameters that fn uses are inputs of the checkpoint
// node, so autograd accumulates their gradients (and runs their hooks) as usual.
//
// Requirements on fn: deterministic (no dropout or other randomness), reads only `inputs`,
// `parameters` and state that does not change before backward, and modifies nothing in place.
// Only first-order gradients flow through a checkpoint (no create_graph).
#pragma once

#include <torch/types.h>

#include <functional>
#include <vector>

namespace hepgnn::models {

using CheckpointFunction =
    std::function<std::vector<torch::Tensor>(const std::vector<torch::Tensor>& inputs)>;

/// fn(inputs), recomputed in backward (Note [Checkpointing]). `parameters`: every tensor that
/// fn reads and that may need a gradient, other than `inputs` (typically module parameters).
/// Without grad mode, or when nothing requires a gradient, this is just fn(inputs).
std::vector<torch::Tensor> checkpoint(CheckpointFunction fn,
                                      const std::vector<torch::Tensor>& inputs,
                                      const std::vector<torch::Tensor>& parameters);

}  // namespace hepgnn::models
