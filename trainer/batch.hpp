// A training or evaluation step's input: several event graphs merged into one
// disjoint graph (node indices offset per graph), as tensors. This is where
// plain buffers from data/ become torch tensors (Note [Torch at the batch
// boundary]).
#pragma once

#include <vector>

#include "data/event_graph.hpp"
#include "models/graph_input.hpp"

namespace hepgnn::trainer {

struct Batch {
    models::GraphInput input;
    torch::Tensor y;  // float32 [E], 0/1
    int64_t n_graphs = 0;
    int64_t n_edges = 0;
};

Batch make_batch(const std::vector<const data::EventGraph*>& graphs);

}  // namespace hepgnn::trainer
