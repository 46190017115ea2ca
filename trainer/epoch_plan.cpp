#include "trainer/epoch_plan.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "trainer/checkpoint.hpp"

namespace hepgnn::trainer {

EpochPlan plan_epoch(const EpochPlanInputs& in, int64_t epoch, const EpochProgress& start,
                     comm::Communicator& comm) {
    const auto& costs = *in.costs;
    const auto& ids = *in.graph_ids;
    EpochPlan plan;
    plan.done.assign(costs.size(), 0);
    plan.first_step = start.steps_done;
    // Checkpoints before world sizes were recorded: the same world is assumed.
    const bool same_world = start.world_size == 0 || start.world_size == comm.size();
    if (start.steps_done == 0 || (same_world && !start.replanned)) {
        auto steps = data::plan_epoch_steps(costs, in.steps_per_epoch, in.seed, epoch, comm.rank());
        const auto skip = std::min<int64_t>(start.steps_done, static_cast<int64_t>(steps.size()));
        for (int64_t s = 0; s < skip; ++s)
            for (int64_t i : steps[s]) plan.done[i] = 1;
        plan.steps.assign(steps.begin() + skip, steps.end());
        plan.n_steps = in.steps_per_epoch;
        return plan;
    }
    // Re-plan what the epoch has not trained (done_graphs is sorted).
    std::vector<int64_t> todo, todo_costs;
    int64_t todo_edges = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
        if (std::binary_search(start.done_graphs.begin(), start.done_graphs.end(), ids[i])) {
            plan.done[i] = 1;
        } else {
            todo.push_back(static_cast<int64_t>(i));
            todo_costs.push_back(costs[i]);
            todo_edges += costs[i];
        }
    }
    const int64_t mine = std::min<int64_t>((todo_edges + in.batch_edges - 1) / in.batch_edges,
                                           static_cast<int64_t>(todo.size()));
    const int64_t n_rest = comm.allreduce_value<int64_t>(mine, comm::ReduceOp::kMax);
    if (n_rest > 0) {
        // Another salt than any fresh epoch's: the re-plan is its own shuffle.
        const auto local = data::plan_epoch_steps(
            todo_costs, n_rest, in.seed ^ 0x9e3779b97f4a7c15ULL, epoch, comm.rank());
        for (const auto& step : local) {
            plan.steps.emplace_back();
            for (int64_t j : step) plan.steps.back().push_back(todo[j]);
        }
    }
    plan.n_steps = start.steps_done + n_rest;
    plan.replanned = true;
    return plan;
}

void mark_step_done(EpochPlan& plan, int64_t step) {
    const int64_t s = step - plan.first_step;
    HEPGNN_INTERNAL_CHECK(s >= 0 && s < static_cast<int64_t>(plan.steps.size()),
                          "step {} outside the plan (steps {}..{})", step, plan.first_step,
                          plan.n_steps);
    for (int64_t i : plan.steps[s]) plan.done[i] = 1;
}

std::vector<int64_t> graphs_done(const EpochPlan& plan, const std::vector<int64_t>& graph_ids,
                                 int64_t global_graphs, comm::Communicator& comm) {
    std::vector<uint8_t> bits(static_cast<size_t>(global_graphs), 0);
    for (size_t i = 0; i < graph_ids.size(); ++i)
        if (plan.done[i]) bits[static_cast<size_t>(graph_ids[i])] = 1;
    comm.allreduce(bits.data(), bits.size(), comm::ReduceOp::kMax);
    std::vector<int64_t> out;
    for (size_t g = 0; g < bits.size(); ++g)
        if (bits[g]) out.push_back(static_cast<int64_t>(g));
    return out;
}

}  // namespace hepgnn::trainer
