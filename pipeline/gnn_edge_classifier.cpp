#include "pipeline/gnn_edge_classifier.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <fmt/format.h>

#include <optional>

#include "core/error.hpp"
#include "models/gnn_model.hpp"

namespace hepgnn::pipeline {

struct GnnEdgeClassifier::Impl {
    Config config;
    std::shared_ptr<models::GnnModel> model;   // either a model ...
    std::optional<torch::jit::Module> module;  // ... or a TorchScript module
    std::string path;                          // of the module, for messages
    data::FeatureInfo features;
    std::string description;

    torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& edge_index) {
        if (model) return model->forward(models::GraphInput::make(x, edge_index[0], edge_index[1]));
        return module->forward({x, edge_index}).toTensor();
    }
};

namespace {

// The graphs [first, last) as one graph: node features stacked, edges
// re-indexed by each graph's node offset (the graphs stay disconnected, so
// every edge's logit is the one it gets alone).
void batch_inputs(const std::vector<data::EventGraph>& graphs, size_t first, size_t last,
                  torch::Tensor& x, torch::Tensor& edge_index) {
    if (last - first == 1) {  // no copy of the features
        const auto& g = graphs[first];
        x = torch::from_blob(const_cast<float*>(g.x.data()), {g.n_nodes, g.n_features},
                             torch::kFloat32);
    }
    int64_t nodes = 0, edges = 0;
    for (size_t i = first; i < last; ++i) {
        nodes += graphs[i].n_nodes;
        edges += graphs[i].n_edges();
    }
    const int64_t n_features = graphs[first].n_features;
    if (last - first > 1) x = torch::empty({nodes, n_features}, torch::kFloat32);
    edge_index = torch::empty({2, edges}, torch::kInt64);
    float* xp = last - first > 1 ? x.data_ptr<float>() : nullptr;
    int64_t* s = edge_index.data_ptr<int64_t>();
    int64_t* r = s + edges;
    int64_t offset = 0;
    for (size_t i = first; i < last; ++i) {
        const auto& g = graphs[i];
        if (xp) xp = std::copy(g.x.begin(), g.x.end(), xp);
        for (int64_t e = 0; e < g.n_edges(); ++e) {
            *s++ = g.senders[e] + offset;
            *r++ = g.receivers[e] + offset;
        }
        offset += g.n_nodes;
    }
}

}  // namespace

GnnEdgeClassifier::GnnEdgeClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

GnnEdgeClassifier::GnnEdgeClassifier(Config config, std::shared_ptr<models::GnnModel> model,
                                     data::FeatureInfo features, std::string description)
    : impl_(std::make_unique<Impl>()) {
    HEPGNN_CHECK(config.batch_edges >= 1, "edge classification: batch_edges is {}; it must be >= 1",
                 config.batch_edges);
    HEPGNN_CHECK(model != nullptr, "edge classification: no model given");
    model->eval();
    impl_->config = config;
    impl_->description = fmt::format("{} ({}, {} parameters)", description, model->config().name,
                                     models::count_parameters(*model));
    impl_->model = std::move(model);
    impl_->features = std::move(features);
}

std::unique_ptr<GnnEdgeClassifier> GnnEdgeClassifier::load_torchscript(
    Config config, const std::filesystem::path& path) {
    HEPGNN_CHECK(config.batch_edges >= 1, "edge classification: batch_edges is {}; it must be >= 1",
                 config.batch_edges);
    auto impl = std::make_unique<Impl>();
    torch::jit::ExtraFilesMap extra{{data::kFeaturesMetadataKey, ""}};
    try {
        impl->module = torch::jit::load(path.string(), torch::kCPU, extra);
    } catch (const c10::Error&) {
        return nullptr;
    }
    HEPGNN_CHECK(impl->module->find_method("forward").has_value(),
                 "'{}' is a TorchScript file without forward(x, edge_index)", path.string());
    impl->module->eval();
    impl->config = config;
    impl->path = path.string();
    impl->description = "torchscript";
    const std::string& features = extra[data::kFeaturesMetadataKey];
    if (!features.empty()) impl->features = data::FeatureInfo::from_json(features, path.string());
    return std::unique_ptr<GnnEdgeClassifier>(new GnnEdgeClassifier(std::move(impl)));
}

GnnEdgeClassifier::~GnnEdgeClassifier() = default;

std::string GnnEdgeClassifier::describe() const {
    return impl_->description;
}

const data::FeatureInfo& GnnEdgeClassifier::features() const {
    return impl_->features;
}

std::vector<std::vector<float>> GnnEdgeClassifier::classify(
    const std::vector<data::EventGraph>& graphs) {
    std::vector<std::vector<float>> out(graphs.size());
    torch::NoGradGuard no_grad;
    Impl& impl = *impl_;
    size_t next = 0;
    while (next < graphs.size()) {
        const size_t first = next;
        int64_t edges = 0;
        while (next < graphs.size() &&
               (next == first || edges + graphs[next].n_edges() <= impl.config.batch_edges)) {
            const auto& g = graphs[next];
            HEPGNN_CHECK(g.n_features == graphs[first].n_features &&
                             static_cast<int64_t>(g.x.size()) == g.n_nodes * g.n_features,
                         "event {} section {}: {} features per node, unlike section {} ({})",
                         g.event_id, g.section_id, g.n_features, graphs[first].section_id,
                         graphs[first].n_features);
            edges += g.n_edges();
            ++next;
        }
        if (edges == 0) continue;  // graphs without edges: empty logits
        const auto& head = graphs[first];
        const std::string where =
            next - first == 1 ? fmt::format("event {} section {}", head.event_id, head.section_id)
                              : fmt::format("event {} sections {}..{}", head.event_id,
                                            head.section_id, graphs[next - 1].section_id);
        if (impl.model)
            HEPGNN_CHECK(head.n_features == impl.model->config().input_dim,
                         "{}: graphs have {} features per node but the model expects {}", where,
                         head.n_features, impl.model->config().input_dim);
        torch::Tensor x, edge_index, logits;
        batch_inputs(graphs, first, next, x, edge_index);
        try {
            logits = impl.forward(x, edge_index);
        } catch (const c10::Error& e) {
            HEPGNN_FAIL("{}: the {} model failed on {} ({} nodes x {} features, {} edges): {}",
                        impl.path.empty() ? std::string("edge classification") : impl.path,
                        impl.description, where, x.size(0), x.size(1), edges,
                        e.what_without_backtrace());
        }
        HEPGNN_CHECK(logits.dim() == 1 && logits.size(0) == edges,
                     "{}: the model returned shape {} for {} edges; it must return logits [E]",
                     where, c10::str(logits.sizes()), edges);
        const auto t = logits.to(torch::kCPU, torch::kFloat32).contiguous();
        const float* p = t.data_ptr<float>();
        for (size_t i = first; i < next; ++i) {
            out[i].assign(p, p + graphs[i].n_edges());
            p += graphs[i].n_edges();
        }
    }
    return out;
}

}  // namespace hepgnn::pipeline
