#include "trainer/checkpoint.hpp"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/error.hpp"

namespace hepgnn::trainer {
namespace {

constexpr const char* kFormat = "hepgnn-checkpoint";
constexpr int kVersion = 1;

nlohmann::json model_json(const models::ModelConfig& c) {
    return {{"name", c.name},
            {"input_dim", c.input_dim},
            {"hidden_dim", c.hidden_dim},
            {"n_graph_iters", c.n_graph_iters},
            {"n_mlp_layers", c.n_mlp_layers},
            {"aggregation", c.aggregation},
            {"activation", c.activation},
            {"layer_norm", c.layer_norm},
            {"message_passing", c.message_passing}};
}

torch::serialize::InputArchive open_archive(const std::filesystem::path& path) {
    HEPGNN_CHECK(std::filesystem::exists(path), "checkpoint '{}' does not exist", path.string());
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path.string());
    } catch (const std::exception&) {
        HEPGNN_FAIL(
            "'{}' is not a hepgnn checkpoint (cannot be read as one; truncated or another "
            "kind of file?)",
            path.string());
    }
    return archive;
}

CheckpointState parse_state(torch::serialize::InputArchive& archive,
                            const std::filesystem::path& path) {
    c10::IValue meta;
    HEPGNN_CHECK(archive.try_read("meta", meta) && meta.isString(),
                 "'{}' is not a hepgnn checkpoint (no metadata)", path.string());
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(meta.toStringRef());
    } catch (const std::exception& e) {
        HEPGNN_FAIL("'{}': corrupt checkpoint metadata: {}", path.string(), e.what());
    }
    HEPGNN_CHECK(j.value("format", "") == kFormat, "'{}' is not a hepgnn checkpoint",
                 path.string());
    HEPGNN_CHECK(j.value("version", 0) == kVersion,
                 "'{}': checkpoint version {} is not supported (this hepgnn reads {})",
                 path.string(), j.value("version", 0), kVersion);
    CheckpointState s;
    s.epoch = j.at("epoch").get<int64_t>();
    s.step = j.at("step").get<int64_t>();
    s.has_best = j.at("has_best").get<bool>();
    s.best_valid_loss = j.at("best_valid_loss").get<double>();
    s.loss_scale = j.value("loss_scale", 1.0);
    if (j.contains("in_epoch")) {
        const auto& p = j.at("in_epoch");
        s.in_epoch.steps_done = p.at("steps_done").get<int64_t>();
        s.in_epoch.loss_sum = p.at("loss_sum").get<double>();
        s.in_epoch.edges = p.at("edges").get<int64_t>();
        s.in_epoch.graphs = p.at("graphs").get<int64_t>();
        s.in_epoch.window_loss_sum = p.at("window_loss_sum").get<double>();
        s.in_epoch.window_edges = p.at("window_edges").get<int64_t>();
        s.in_epoch.window_graphs = p.at("window_graphs").get<int64_t>();
        s.in_epoch.imbalance_sum = p.at("imbalance_sum").get<double>();
    }
    s.model = model_config_from_json(j.at("model").dump(), path.string());
    if (j.contains("features"))
        s.features = data::FeatureInfo::from_json(j.at("features").dump(), path.string());
    return s;
}

}  // namespace

std::string model_config_to_json(const models::ModelConfig& config) {
    return model_json(config).dump();
}

models::ModelConfig model_config_from_json(const std::string& text, const std::string& where) {
    models::ModelConfig c;
    try {
        const auto j = nlohmann::json::parse(text);
        c.name = j.at("name").get<std::string>();
        c.input_dim = j.at("input_dim").get<int64_t>();
        c.hidden_dim = j.at("hidden_dim").get<int64_t>();
        c.n_graph_iters = j.at("n_graph_iters").get<int64_t>();
        c.n_mlp_layers = j.at("n_mlp_layers").get<int64_t>();
        c.aggregation = j.at("aggregation").get<std::string>();
        c.activation = j.at("activation").get<std::string>();
        c.layer_norm = j.at("layer_norm").get<bool>();
        c.message_passing = j.at("message_passing").get<std::string>();
    } catch (const std::exception& e) {
        HEPGNN_FAIL("{}: cannot read the model config: {}", where, e.what());
    }
    return c;
}

std::string model_config_difference(const models::ModelConfig& a, const models::ModelConfig& b) {
    const auto ja = model_json(a), jb = model_json(b);
    std::string diff;
    for (auto it = ja.begin(); it != ja.end(); ++it) {
        if (it.key() == "message_passing") continue;  // same parameters either way
        if (jb.at(it.key()) != it.value())
            diff += fmt::format("{}model.{} {} vs {}", diff.empty() ? "" : ", ", it.key(),
                                it.value().dump(), jb.at(it.key()).dump());
    }
    return diff;
}

void save_checkpoint(const std::filesystem::path& path, models::GnnModel& model,
                     torch::optim::Optimizer* optimizer, const CheckpointState& state) {
    torch::serialize::OutputArchive archive;
    nlohmann::json meta = {{"format", kFormat},
                           {"version", kVersion},
                           {"epoch", state.epoch},
                           {"step", state.step},
                           {"has_best", state.has_best},
                           {"best_valid_loss", state.best_valid_loss},
                           {"loss_scale", state.loss_scale},
                           {"in_epoch",
                            {{"steps_done", state.in_epoch.steps_done},
                             {"loss_sum", state.in_epoch.loss_sum},
                             {"edges", state.in_epoch.edges},
                             {"graphs", state.in_epoch.graphs},
                             {"window_loss_sum", state.in_epoch.window_loss_sum},
                             {"window_edges", state.in_epoch.window_edges},
                             {"window_graphs", state.in_epoch.window_graphs},
                             {"imbalance_sum", state.in_epoch.imbalance_sum}}},
                           {"model", model_json(model.config())}};
    if (!state.features.empty()) meta["features"] = nlohmann::json::parse(state.features.to_json());
    archive.write("meta", c10::IValue(meta.dump()));
    torch::serialize::OutputArchive model_archive;
    model.save(model_archive);
    archive.write("model", model_archive);
    if (optimizer) {
        torch::serialize::OutputArchive optim_archive;
        optimizer->save(optim_archive);
        archive.write("optimizer", optim_archive);
    }
    archive.write("rng", at::detail::getDefaultCPUGenerator().get_state());
    replace_file_atomically(
        path, [&](const std::filesystem::path& tmp) { archive.save_to(tmp.string()); });
}

CheckpointState read_checkpoint_state(const std::filesystem::path& path) {
    auto archive = open_archive(path);
    return parse_state(archive, path);
}

CheckpointState load_checkpoint(const std::filesystem::path& path, models::GnnModel& model,
                                torch::optim::Optimizer* optimizer) {
    auto archive = open_archive(path);
    CheckpointState s = parse_state(archive, path);
    const std::string diff = model_config_difference(s.model, model.config());
    HEPGNN_CHECK(diff.empty(),
                 "checkpoint '{}' holds a different model ({}, checkpoint vs config); use the "
                 "config it was trained with, or a new output_dir",
                 path.string(), diff);
    try {
        torch::serialize::InputArchive model_archive;
        archive.read("model", model_archive);
        model.load(model_archive);
        if (optimizer) {
            torch::serialize::InputArchive optim_archive;
            archive.read("optimizer", optim_archive);
            optimizer->load(optim_archive);
        }
        torch::Tensor rng;
        if (archive.try_read("rng", rng)) {
            auto generator = at::detail::getDefaultCPUGenerator();
            std::lock_guard<std::mutex> lock(generator.mutex());
            generator.set_state(rng);
        }
    } catch (const c10::Error& e) {
        HEPGNN_FAIL("checkpoint '{}' is damaged or incompatible: {}", path.string(),
                    e.what_without_backtrace());
    }
    return s;
}

std::shared_ptr<models::GnnModel> load_model(const std::filesystem::path& path,
                                             CheckpointState* state_out) {
    const auto state = read_checkpoint_state(path);
    std::shared_ptr<models::GnnModel> model;
    try {
        model = models::make_model(state.model);
    } catch (const Error& e) {
        HEPGNN_FAIL("checkpoint '{}' holds a model this hepgnn cannot build: {}", path.string(),
                    e.what());
    }
    const CheckpointState loaded = load_checkpoint(path, *model, nullptr);
    if (state_out) *state_out = loaded;
    return model;
}

}  // namespace hepgnn::trainer
