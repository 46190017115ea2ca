#include "pipeline/label_edge_classifier.hpp"

#include <fmt/format.h>

#include <cmath>
#include <random>

#include "core/error.hpp"

namespace hepgnn::pipeline {

LabelEdgeClassifier::LabelEdgeClassifier(Config config) : config_(config) {
    HEPGNN_CHECK(config_.separation >= 0 && std::isfinite(config_.separation),
                 "label classifier: separation {} must be finite and >= 0", config_.separation);
    HEPGNN_CHECK(config_.sigma >= 0 && std::isfinite(config_.sigma),
                 "label classifier: sigma {} must be finite and >= 0", config_.sigma);
    HEPGNN_CHECK(config_.flip >= 0 && config_.flip <= 1,
                 "label classifier: flip {} is outside [0, 1]", config_.flip);
}

std::vector<std::vector<float>> LabelEdgeClassifier::classify(
    const std::vector<data::EventGraph>& graphs) {
    std::vector<std::vector<float>> out(graphs.size());
    for (size_t g = 0; g < graphs.size(); ++g) {
        const auto& graph = graphs[g];
        HEPGNN_CHECK(static_cast<int64_t>(graph.y.size()) == graph.n_edges(),
                     "event {} section {}: the graph has no edge labels; scores from truth need "
                     "graphs with truth (prepare's, or labelled with the event's truth)",
                     graph.event_id, graph.section_id);
        std::vector<uint32_t> words;
        for (const uint64_t v : {config_.seed, static_cast<uint64_t>(graph.event_id),
                                 static_cast<uint64_t>(graph.section_id)}) {
            words.push_back(static_cast<uint32_t>(v));
            words.push_back(static_cast<uint32_t>(v >> 32));
        }
        std::seed_seq seq(words.begin(), words.end());
        std::mt19937_64 rng(seq);
        std::normal_distribution<double> normal(0.0, 1.0);
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        auto& logits = out[g];
        logits.resize(graph.y.size());
        for (size_t e = 0; e < graph.y.size(); ++e) {
            bool y = graph.y[e] != 0;
            if (config_.flip > 0 && uniform(rng) < config_.flip) y = !y;
            double logit = y ? config_.separation : -config_.separation;
            if (config_.sigma > 0) logit += config_.sigma * normal(rng);
            logits[e] = static_cast<float>(logit);
        }
    }
    return out;
}

std::string LabelEdgeClassifier::describe() const {
    if (config_.sigma == 0 && config_.flip == 0) return "truth labels";
    return fmt::format("truth labels with noise (logit +-{} + {} N(0,1), {} flipped, seed {})",
                       config_.separation, config_.sigma, config_.flip, config_.seed);
}

}  // namespace hepgnn::pipeline
