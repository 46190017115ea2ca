// A training or evaluation step's input: several event graphs merged into one
// disjoint graph (node indices offset per graph), as tensors. This is where
// plain buffers from data/ become torch tensors (Note [Torch at the batch
// boundary]).
#pragma once

#include <vector>

#include "data/event_graph.hpp"
#include "models/graph_input.hpp"

namespace hepgnn::trainer {

struct EdgeWeights;

struct Batch {
    models::GraphInput input;
    torch::Tensor y;       // float32 [E], 0/1
    torch::Tensor weight;  // float32 [E] loss weights; undefined without edge weights
    int64_t n_graphs = 0;
    int64_t n_edges = 0;
};

/// `weights` (may be null): per-edge loss weights (trainer/edge_weights.hpp).
Batch make_batch(const std::vector<const data::EventGraph*>& graphs,
                 const EdgeWeights* weights = nullptr);

}  // namespace hepgnn::trainer
