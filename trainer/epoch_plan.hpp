// Which graphs each step of an epoch trains, on this rank, and which graphs of
// the epoch are done when a run stops inside it.
//
// Note [Elastic resume]: a run stopped mid-epoch records the file indices of
// the graphs its ranks had trained in that epoch and the world size it ran on
// (EpochProgress). Resumed on the same number of ranks, the epoch follows its
// own plan again from the step it stopped at, so the resumed run is
// bit-identical to an uninterrupted one. Resumed on another number of ranks
// (or after a stop inside an epoch that was itself re-planned), each rank
// takes the graphs of its new shard that the epoch has not trained yet and
// packs them into as many steps as the most loaded rank needs: every graph of
// the epoch is trained exactly once, whatever the two world sizes.
#pragma once

#include <cstdint>
#include <vector>

#include "comm/communicator.hpp"
#include "data/load_balance.hpp"

namespace hepgnn::trainer {

struct EpochProgress;

struct EpochPlan {
    data::Bins steps;           // this rank's local graph indices, per step still to run
    int64_t first_step = 0;     // the epoch's index of steps[0]
    int64_t n_steps = 0;        // steps of the whole epoch: first_step + steps.size()
    bool replanned = false;     // the rest of the epoch was re-planned (Note [Elastic resume])
    std::vector<uint8_t> done;  // per local graph: trained in this epoch already
};

struct EpochPlanInputs {
    const std::vector<int64_t>* costs = nullptr;      // edges per local graph
    const std::vector<int64_t>* graph_ids = nullptr;  // file index per local graph
    int64_t steps_per_epoch = 0;                      // of a fresh epoch on this world
    int64_t batch_edges = 0;                          // per rank and step (re-planning)
    uint64_t seed = 0;
};

/// The plan of `epoch` from its start (`start` all zero) or from a stop inside
/// it. Collective (re-planning agrees on the step count).
EpochPlan plan_epoch(const EpochPlanInputs& in, int64_t epoch, const EpochProgress& start,
                     comm::Communicator& comm);

/// Marks the graphs of the step the plan has just run (steps[step - first_step]).
void mark_step_done(EpochPlan& plan, int64_t step);

/// The file indices of the graphs every rank has trained in this epoch,
/// sorted. Collective.
std::vector<int64_t> graphs_done(const EpochPlan& plan, const std::vector<int64_t>& graph_ids,
                                 int64_t global_graphs, comm::Communicator& comm);

}  // namespace hepgnn::trainer
