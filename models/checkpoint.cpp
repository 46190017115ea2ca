#include "models/checkpoint.hpp"

#include <ATen/core/ivalue.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>

#include "core/error.hpp"

namespace hepgnn::models {
namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// What backward needs besides the saved inputs; held by the node through a capsule.
struct CheckpointState : torch::CustomClassHolder {
    CheckpointFunction fn;
    std::vector<Tensor> parameters;  // the very tensors fn reads, so grad() finds them
    std::vector<bool> input_requires_grad;
};

struct CheckpointNode : torch::autograd::Function<CheckpointNode> {
    // Runs with grad mode off (Function::apply guarantees it): fn records no graph.
    static variable_list forward(AutogradContext* ctx,
                                 const c10::intrusive_ptr<CheckpointState>& state,
                                 at::TensorList inputs, at::TensorList /*parameters*/) {
        std::vector<Tensor> in(inputs.begin(), inputs.end());
        std::vector<Tensor> out = state->fn(in);
        ctx->save_for_backward(in);
        ctx->saved_data["state"] = c10::IValue::make_capsule(state);
        return out;
    }

    static variable_list backward(AutogradContext* ctx, variable_list grads) {
        auto state = c10::static_intrusive_pointer_cast<CheckpointState>(
            ctx->saved_data["state"].toCapsule());
        const variable_list saved = ctx->get_saved_variables();
        const size_t n_in = saved.size(), n_par = state->parameters.size();
        HEPGNN_INTERNAL_CHECK(n_in == state->input_requires_grad.size(),
                              "checkpoint saved {} inputs but recorded {} flags", n_in,
                              state->input_requires_grad.size());

        std::vector<Tensor> inputs;
        variable_list wrt;
        std::vector<size_t> slot;  // result slot of each entry of wrt
        for (size_t i = 0; i < n_in; ++i) {
            Tensor t = saved[i].detach();
            if (state->input_requires_grad[i]) {
                t.requires_grad_(true);
                wrt.push_back(t);
                slot.push_back(1 + i);
            }
            inputs.push_back(t);
        }
        for (size_t i = 0; i < n_par; ++i) {
            if (state->parameters[i].requires_grad()) {
                wrt.push_back(state->parameters[i]);
                slot.push_back(1 + n_in + i);
            }
        }

        std::vector<Tensor> outputs;
        {
            torch::AutoGradMode enable_grad(true);
            outputs = state->fn(inputs);
        }
        HEPGNN_INTERNAL_CHECK(outputs.size() == grads.size(),
                              "checkpointed function returned {} outputs in backward, {} before",
                              outputs.size(), grads.size());
        variable_list roots, root_grads;
        for (size_t i = 0; i < outputs.size(); ++i) {
            if (outputs[i].requires_grad() && grads[i].defined()) {
                roots.push_back(outputs[i]);
                root_grads.push_back(grads[i]);
            }
        }

        variable_list result(1 + n_in + n_par);  // slot 0: the state (not a tensor)
        if (roots.empty() || wrt.empty()) return result;
        const variable_list g =
            torch::autograd::grad(roots, wrt, root_grads, /*retain_graph=*/false,
                                  /*create_graph=*/false, /*allow_unused=*/true);
        for (size_t i = 0; i < g.size(); ++i) result[slot[i]] = g[i];
        return result;
    }
};

}  // namespace

std::vector<Tensor> checkpoint(CheckpointFunction fn, const std::vector<Tensor>& inputs,
                               const std::vector<Tensor>& parameters) {
    auto requires_grad = [](const Tensor& t) { return t.defined() && t.requires_grad(); };
    const bool needs_graph = torch::GradMode::is_enabled() &&
                             (std::any_of(inputs.begin(), inputs.end(), requires_grad) ||
                              std::any_of(parameters.begin(), parameters.end(), requires_grad));
    if (!needs_graph) return fn(inputs);

    for (const auto& t : inputs)
        HEPGNN_CHECK(t.defined(), "checkpoint: an input tensor is undefined");
    auto state = c10::make_intrusive<CheckpointState>();
    state->fn = std::move(fn);
    state->parameters = parameters;
    for (const auto& t : inputs) state->input_requires_grad.push_back(t.requires_grad());
    return CheckpointNode::apply(state, at::TensorList(inputs), at::TensorList(parameters));
}

}  // namespace hepgnn::models
