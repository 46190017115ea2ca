// hepgnn export: a trained model as TorchScript or ONNX for other programs
// (DESIGN §3.4), e.g. C++ inference in ACTS.
#include <fmt/format.h>
#include <torch/torch.h>

#include <CLI/CLI.hpp>

#include "app/model_commands/model_commands.hpp"
#include "core/error.hpp"
#include "models/ops/library.hpp"
#include "models/torchscript_export.hpp"
#include "trainer/checkpoint.hpp"
#ifdef HEPGNN_HAVE_ONNX
#include "models/onnx_export.hpp"
#endif

namespace hepgnn::app {
namespace {

struct ExportOptions {
    std::string checkpoint;
    std::string format;
    std::string out;
    int opset = 17;
    bool portable = false;
};

#ifdef HEPGNN_HAVE_ONNX
models::ParameterMap parameter_map(models::GnnModel& model) {
    models::ParameterMap params;
    for (const auto& p : model.named_parameters()) {
        const auto t = p.value().detach().to(torch::kCPU).contiguous();
        models::NamedTensor nt;
        nt.shape = t.sizes().vec();
        nt.values.assign(t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
        params.emplace(p.key(), std::move(nt));
    }
    return params;
}
#endif

int run_export(const ExportOptions& opt, Context& ctx) {
    if (!ctx.is_root()) return 0;  // one file; other ranks have nothing to do
    trainer::CheckpointState state;
    auto model = trainer::load_model(opt.checkpoint, &state);
    // Consumers must scale their inputs as the training data was (data/feature_info.hpp).
    std::map<std::string, std::string> metadata;
    if (!state.features.empty()) metadata[data::kFeaturesMetadataKey] = state.features.to_json();
    if (opt.format == "torchscript") {
        models::export_torchscript(
            *model, opt.out, metadata,
            opt.portable ? models::TorchScriptOps::portable : models::TorchScriptOps::fused);
    } else {
#ifdef HEPGNN_HAVE_ONNX
        models::write_interaction_network_onnx(model->config(), parameter_map(*model), opt.out,
                                               opt.opset, metadata);
#else
        HEPGNN_FAIL(
            "export --format onnx: this hepgnn was built without libonnx; install "
            "libonnx-dev (scripts/install-deps.sh) and rebuild");
#endif
    }
    say(ctx, fmt::format("export: {} ({}, {} parameters) -> {} ({})", opt.checkpoint,
                         model->config().name, models::count_parameters(*model), opt.out,
                         opt.format == "onnx" ? fmt::format("onnx opset {}", opt.opset)
                         : opt.portable       ? std::string("torchscript, plain torch ops")
                                              : fmt::format("torchscript; load {} before "
                                                                  "torch::jit::load",
                                                            ops::library_path())));
    return 0;
}

}  // namespace

void add_export_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<ExportOptions>();
    auto* cmd = app.add_subcommand(
        "export",
        "Export a trained model for other programs: TorchScript (torch.jit.load / "
        "torch::jit::load) or ONNX (ONNX Runtime). Both take x float32 [N, F] and edge_index "
        "int64 [2, E] and return logits float32 [E]");
    cmd->add_option("--checkpoint", opt->checkpoint, "Checkpoint (e.g. OUT/checkpoints/best.ckpt)")
        ->required();
    cmd->add_option("--format", opt->format, "torchscript | onnx")
        ->required()
        ->check(CLI::IsMember({"torchscript", "onnx"}));
    cmd->add_option("--out", opt->out, "Output file (.pt or .onnx)")->required();
    cmd->add_flag("--portable", opt->portable,
                  "TorchScript of plain torch ops, for clients without libhepgnn_ops.so (by "
                  "default the forward calls the fused custom op hepgnn::interaction_network, "
                  "which the client loads from libhepgnn_ops.so)");
    cmd->add_option("--opset", opt->opset, "ONNX opset (16 or 17)")
        ->check(CLI::IsMember({16, 17}))
        ->capture_default_str();
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_export(*opt, ctx); }; });
}

}  // namespace hepgnn::app
