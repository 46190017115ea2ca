#include "app/model_commands/model_loading.hpp"

#include <fstream>

#include "core/error.hpp"
#include "models/gnn_model.hpp"
#include "models/ops/panel_matmul.hpp"
#include "trainer/checkpoint.hpp"

namespace hepgnn::app {
namespace {

bool starts_with_onnx_magic(const std::filesystem::path& path) {
    // A serialized ONNX ModelProto starts with field 1 (ir_version, varint): 0x08.
    std::ifstream in(path, std::ios::binary);
    char c = 0;
    return in.get(c) && c == 0x08 && path.extension() == ".onnx";
}

}  // namespace

std::unique_ptr<pipeline::GnnEdgeClassifier> load_checkpoint_classifier(
    const std::filesystem::path& path, const pipeline::GnnEdgeClassifier::Config& config) {
    trainer::CheckpointState state;
    auto model = trainer::load_model(path, &state);
    if (config.bfloat16) {
        HEPGNN_CHECK(ops::cpu_has_avx512_bf16(),
                     "--bf16: this CPU has no AVX512-BF16 (bfloat16 dot products); run without "
                     "--bf16");
        HEPGNN_CHECK(model->set_bfloat16_inference(true),
                     "--bf16: '{}' holds a {} model, and only interaction_network has bfloat16 "
                     "inference; run without --bf16",
                     path.string(), model->config().name);
    }
    return std::make_unique<pipeline::GnnEdgeClassifier>(config, std::move(model),
                                                         std::move(state.features), "checkpoint");
}

std::unique_ptr<pipeline::GnnEdgeClassifier> load_edge_classifier(
    const std::filesystem::path& path, const pipeline::GnnEdgeClassifier::Config& config) {
    HEPGNN_CHECK(std::filesystem::is_regular_file(path), "model '{}' does not exist",
                 path.string());
    HEPGNN_CHECK(!starts_with_onnx_magic(path),
                 "'{}' is an ONNX model: run it with ONNX Runtime; give infer the checkpoint or "
                 "its TorchScript export (hepgnn export --format torchscript)",
                 path.string());
    bool is_checkpoint = false;
    try {
        trainer::read_checkpoint_state(path);
        is_checkpoint = true;
    } catch (const Error&) {
        // not a checkpoint: try TorchScript below
    }
    if (is_checkpoint) return load_checkpoint_classifier(path, config);
    HEPGNN_CHECK(!config.bfloat16,
                 "--bf16 works with hepgnn checkpoints, not TorchScript exports ('{}'); pass the "
                 "checkpoint or run without --bf16",
                 path.string());
    auto classifier = pipeline::GnnEdgeClassifier::load_torchscript(config, path);
    HEPGNN_CHECK(classifier != nullptr,
                 "'{}' is neither a hepgnn checkpoint nor a TorchScript model; pass "
                 "OUT/checkpoints/best.ckpt or the file of hepgnn export --format torchscript",
                 path.string());
    return classifier;
}

}  // namespace hepgnn::app
