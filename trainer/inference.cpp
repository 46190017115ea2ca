#include "trainer/inference.hpp"

#include <torch/torch.h>

#include <cmath>

#include "trainer/batch.hpp"

namespace hepgnn::trainer {

std::vector<std::vector<float>> predict_logits(models::GnnModel& model,
                                               const std::vector<data::EventGraph>& graphs,
                                               int64_t batch_edges) {
    torch::NoGradGuard no_grad;
    const bool was_training = model.is_training();
    model.eval();
    const auto params = model.parameters();
    const auto device = params.empty() ? torch::Device(torch::kCPU) : params[0].device();
    std::vector<std::vector<float>> out(graphs.size());
    size_t next = 0;
    while (next < graphs.size()) {
        std::vector<const data::EventGraph*> batch;
        int64_t edges = 0;
        const size_t first = next;
        while (next < graphs.size() &&
               (batch.empty() || edges + graphs[next].n_edges() <= batch_edges)) {
            edges += graphs[next].n_edges();
            batch.push_back(&graphs[next++]);
        }
        const Batch b = make_batch(batch);
        const torch::Tensor logits = model.forward(device.is_cpu() ? b.input : b.input.to(device))
                                         .to(torch::kCPU)
                                         .contiguous();
        const float* p = logits.data_ptr<float>();
        for (size_t i = first; i < next; ++i) {
            out[i].assign(p, p + graphs[i].n_edges());
            p += graphs[i].n_edges();
        }
    }
    model.train(was_training);
    return out;
}

double bce_with_logit(float logit, uint8_t label, double pos_weight) {
    const double l = logit;
    // -[w y log s(l) + (1-y) log(1-s(l))], with log s(l) = -softplus(-l).
    const double softplus_neg = std::max(-l, 0.0) + std::log1p(std::exp(-std::abs(l)));
    return label ? pos_weight * softplus_neg : softplus_neg + l;
}

void accumulate_edge_metrics(const std::vector<data::EventGraph>& graphs,
                             const std::vector<std::vector<float>>& logits, double pos_weight,
                             EdgeMetrics& metrics) {
    std::vector<float> scores;
    for (size_t g = 0; g < graphs.size(); ++g) {
        const auto& l = logits[g];
        scores.resize(l.size());
        double loss = 0;
        for (size_t e = 0; e < l.size(); ++e) {
            scores[e] = 1.0f / (1.0f + std::exp(-l[e]));  // sigmoid
            loss += bce_with_logit(l[e], graphs[g].y[e], pos_weight);
        }
        metrics.add(scores.data(), graphs[g].y.data(), static_cast<int64_t>(l.size()));
        metrics.add_loss(loss, static_cast<int64_t>(l.size()));
    }
}

}  // namespace hepgnn::trainer
