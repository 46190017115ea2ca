// Running a model over many graphs without gradients, in batches under an
// edge budget: logits per graph, and the validation metrics built on them.
#pragma once

#include <vector>

#include "data/event_graph.hpp"
#include "models/gnn_model.hpp"
#include "trainer/edge_metrics.hpp"

namespace hepgnn::trainer {

/// Logits of every edge of every graph (same order as `graphs`).
std::vector<std::vector<float>> predict_logits(models::GnnModel& model,
                                               const std::vector<data::EventGraph>& graphs,
                                               int64_t batch_edges);

/// Weighted binary cross-entropy of one edge from its logit (numerically stable).
double bce_with_logit(float logit, uint8_t label, double pos_weight);

/// Adds the graphs' scores and losses to `metrics` (not reduced across ranks).
void accumulate_edge_metrics(const std::vector<data::EventGraph>& graphs,
                             const std::vector<std::vector<float>>& logits, double pos_weight,
                             EdgeMetrics& metrics);

}  // namespace hepgnn::trainer
