#include "trainer/batch.hpp"

#include <torch/torch.h>

#include <cstring>

#include "trainer/edge_weights.hpp"

namespace hepgnn::trainer {

Batch make_batch(const std::vector<const data::EventGraph*>& graphs, const EdgeWeights* weights) {
    int64_t n_nodes = 0, n_edges = 0, n_features = graphs.empty() ? 3 : graphs[0]->n_features;
    for (const auto* g : graphs) {
        n_nodes += g->n_nodes;
        n_edges += g->n_edges();
    }
    auto x = torch::empty({n_nodes, n_features}, torch::kFloat32);
    auto senders = torch::empty({n_edges}, torch::kInt64);
    auto receivers = torch::empty({n_edges}, torch::kInt64);
    auto y = torch::empty({n_edges}, torch::kFloat32);
    float* xp = x.data_ptr<float>();
    int64_t* sp = senders.data_ptr<int64_t>();
    int64_t* rp = receivers.data_ptr<int64_t>();
    float* yp = y.data_ptr<float>();
    int64_t node0 = 0, edge0 = 0;
    for (const auto* g : graphs) {
        std::memcpy(xp + node0 * n_features, g->x.data(), g->x.size() * sizeof(float));
        for (int64_t e = 0; e < g->n_edges(); ++e) {
            sp[edge0 + e] = node0 + g->senders[e];
            rp[edge0 + e] = node0 + g->receivers[e];
            yp[edge0 + e] = g->y[e];
        }
        node0 += g->n_nodes;
        edge0 += g->n_edges();
    }
    Batch b;
    b.input = models::GraphInput::make(std::move(x), std::move(senders), std::move(receivers));
    b.y = std::move(y);
    if (weights != nullptr && weights->enabled()) {
        std::vector<float> w;
        w.reserve(static_cast<size_t>(n_edges));
        for (const auto* g : graphs) append_edge_weights(*g, *weights, w);
        b.weight = torch::from_blob(w.data(), {n_edges}, torch::kFloat32).clone();
    }
    b.n_graphs = static_cast<int64_t>(graphs.size());
    b.n_edges = n_edges;
    return b;
}

}  // namespace hepgnn::trainer
