#include "trainer/edge_scorer.hpp"

#include <torch/script.h>
#include <torch/torch.h>

#include <fstream>
#include <optional>

#include "core/error.hpp"
#include "models/gnn_model.hpp"
#include "trainer/checkpoint.hpp"

namespace hepgnn::trainer {
namespace {

torch::Tensor node_features(const data::EventGraph& g) {
    return torch::from_blob(const_cast<float*>(g.x.data()), {g.n_nodes, g.n_features},
                            torch::kFloat32);
}

torch::Tensor edge_index(const data::EventGraph& g) {
    auto s = torch::from_blob(const_cast<int32_t*>(g.senders.data()), {g.n_edges()}, torch::kInt32);
    auto r =
        torch::from_blob(const_cast<int32_t*>(g.receivers.data()), {g.n_edges()}, torch::kInt32);
    return torch::stack({s, r}).to(torch::kInt64);
}

std::vector<float> to_vector(const torch::Tensor& logits, const data::EventGraph& g) {
    HEPGNN_CHECK(logits.dim() == 1 && logits.size(0) == g.n_edges(),
                 "event {} section {}: the model returned shape {} for {} edges; it must return "
                 "logits [E]",
                 g.event_id, g.section_id, c10::str(logits.sizes()), g.n_edges());
    const auto t = logits.to(torch::kCPU, torch::kFloat32).contiguous();
    return {t.data_ptr<float>(), t.data_ptr<float>() + t.numel()};
}

class CheckpointScorer : public EdgeScorer {
public:
    CheckpointScorer(std::shared_ptr<models::GnnModel> model, data::FeatureInfo features)
        : model_(std::move(model)), features_(std::move(features)) {
        model_->eval();
    }
    std::vector<float> logits(const data::EventGraph& g) override {
        if (g.n_edges() == 0) return {};
        torch::NoGradGuard no_grad;
        const auto ei = edge_index(g);
        return to_vector(model_->forward(models::GraphInput::make(node_features(g), ei[0], ei[1])),
                         g);
    }
    std::string describe() const override {
        return "checkpoint (" + model_->config().name + ", " +
               std::to_string(models::count_parameters(*model_)) + " parameters)";
    }
    const data::FeatureInfo& features() const override { return features_; }

private:
    std::shared_ptr<models::GnnModel> model_;
    data::FeatureInfo features_;
};

class TorchScriptScorer : public EdgeScorer {
public:
    TorchScriptScorer(torch::jit::Module module, std::string path, data::FeatureInfo features)
        : module_(std::move(module)), path_(std::move(path)), features_(std::move(features)) {
        module_.eval();
    }
    std::vector<float> logits(const data::EventGraph& g) override {
        if (g.n_edges() == 0) return {};
        torch::NoGradGuard no_grad;
        try {
            return to_vector(module_.forward({node_features(g), edge_index(g)}).toTensor(), g);
        } catch (const c10::Error& e) {
            HEPGNN_FAIL(
                "{}: the TorchScript model failed on event {} section {} ({} nodes x {} "
                "features, {} edges): {}",
                path_, g.event_id, g.section_id, g.n_nodes, g.n_features, g.n_edges(),
                e.what_without_backtrace());
        }
    }
    std::string describe() const override { return "torchscript"; }
    const data::FeatureInfo& features() const override { return features_; }

private:
    torch::jit::Module module_;
    std::string path_;
    data::FeatureInfo features_;
};

bool starts_with_onnx_magic(const std::filesystem::path& path) {
    // A serialized ONNX ModelProto starts with field 1 (ir_version, varint): 0x08.
    std::ifstream in(path, std::ios::binary);
    char c = 0;
    return in.get(c) && c == 0x08 && path.extension() == ".onnx";
}

}  // namespace

std::unique_ptr<EdgeScorer> load_edge_scorer(const std::filesystem::path& path) {
    HEPGNN_CHECK(std::filesystem::is_regular_file(path), "model '{}' does not exist",
                 path.string());
    HEPGNN_CHECK(!starts_with_onnx_magic(path),
                 "'{}' is an ONNX model: run it with ONNX Runtime; give infer the checkpoint or "
                 "its TorchScript export (hepgnn export --format torchscript)",
                 path.string());
    std::optional<CheckpointState> state;
    try {
        state = read_checkpoint_state(path);
    } catch (const Error&) {
        // not a checkpoint: try TorchScript below
    }
    if (state) return std::make_unique<CheckpointScorer>(load_model(path), state->features);
    torch::jit::Module module;
    torch::jit::ExtraFilesMap extra{{data::kFeaturesMetadataKey, ""}};
    try {
        module = torch::jit::load(path.string(), torch::kCPU, extra);
    } catch (const c10::Error&) {
        HEPGNN_FAIL(
            "'{}' is neither a hepgnn checkpoint nor a TorchScript model; pass "
            "OUT/checkpoints/best.ckpt or the file of hepgnn export --format torchscript",
            path.string());
    }
    HEPGNN_CHECK(module.find_method("forward").has_value(),
                 "'{}' is a TorchScript file without forward(x, edge_index)", path.string());
    const std::string& features = extra[data::kFeaturesMetadataKey];
    return std::make_unique<TorchScriptScorer>(
        std::move(module), path.string(),
        features.empty() ? data::FeatureInfo{}
                         : data::FeatureInfo::from_json(features, path.string()));
}

}  // namespace hepgnn::trainer
