#include "trainer/checkpoint.hpp"

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>

#include "core/atomic_file.hpp"
#include "core/checksum.hpp"
#include "core/error.hpp"
#include "core/json_number.hpp"
#include "core/text_file.hpp"

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
            {"edge_features", c.edge_features},
            {"message_passing", c.message_passing}};
}

// Note [Checkpoint file]: a 24-byte header, then the torch archive.
//   bytes 0-7   "HEPGNNCK"
//   bytes 8-11  container version (2), little-endian uint32
//   bytes 12-15 CRC-32 (zlib's) of the archive
//   bytes 16-23 archive size in bytes, little-endian uint64
// A bit flip anywhere changes the CRC and a cut file is shorter than the header
// says; either is refused, in one line, before torch parses a byte, so
// training never resumes from a damaged file, and torch's archive reader,
// which a crafted archive can crash (fuzz/README.md), never sees accidental
// damage. Bare torch archives (hepgnn before checksums) are refused too.
constexpr char kMagic[8] = {'H', 'E', 'P', 'G', 'N', 'N', 'C', 'K'};
constexpr uint32_t kContainerVersion = 2;
constexpr size_t kHeaderBytes = 24;

template <typename T>
void put_le(std::string& out, T v) {
    for (size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

template <typename T>
T get_le(const std::string& in, size_t at) {
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
        v |= static_cast<T>(static_cast<unsigned char>(in[at + i])) << (8 * i);
    return v;
}

std::string with_header(const std::string& archive) {
    std::string out(kMagic, sizeof kMagic);
    put_le<uint32_t>(out, kContainerVersion);
    put_le<uint32_t>(out, crc32(archive));
    put_le<uint64_t>(out, archive.size());
    return out + archive;
}

/// The torch archive inside a checkpoint file, after its header is checked.
/// The bytes stay owned here for as long as the archive may read them.
struct OpenArchive {
    std::shared_ptr<const std::string> bytes;
    torch::serialize::InputArchive archive;
};

OpenArchive open_archive(const std::filesystem::path& path) {
    HEPGNN_CHECK(std::filesystem::exists(path), "checkpoint '{}' does not exist", path.string());
    auto bytes = std::make_shared<std::string>(read_text_file(path, "checkpoint"));
    const std::string& b = *bytes;
    HEPGNN_CHECK(b.size() < 4 || b.compare(0, 4, "PK\x03\x04") != 0,
                 "'{}' is a checkpoint of a hepgnn before checksums (a bare torch archive); "
                 "this hepgnn reads only checked checkpoints: train again",
                 path.string());
    HEPGNN_CHECK(b.size() >= sizeof kMagic && std::memcmp(b.data(), kMagic, sizeof kMagic) == 0,
                 "'{}' is not a hepgnn checkpoint (it does not start with the checkpoint "
                 "header; another kind of file?)",
                 path.string());
    HEPGNN_CHECK(b.size() >= kHeaderBytes,
                 "checkpoint '{}' is truncated ({} bytes, less than its header); use an "
                 "earlier checkpoint such as best.ckpt, or train again",
                 path.string(), b.size());
    const auto version = get_le<uint32_t>(b, 8);
    HEPGNN_CHECK(version == kContainerVersion,
                 "checkpoint '{}' has container version {}, this hepgnn reads {} (written "
                 "by a newer hepgnn, or the header is damaged)",
                 path.string(), version, kContainerVersion);
    const auto stored_crc = get_le<uint32_t>(b, 12);
    const auto size = get_le<uint64_t>(b, 16);
    HEPGNN_CHECK(size == b.size() - kHeaderBytes,
                 "checkpoint '{}' is {} ({} archive bytes where its header says {}); use an "
                 "earlier checkpoint such as best.ckpt, or train again",
                 path.string(), size > b.size() - kHeaderBytes ? "truncated" : "damaged",
                 b.size() - kHeaderBytes, size);
    const uint32_t crc = crc32(std::string_view(b).substr(kHeaderBytes));
    HEPGNN_CHECK(crc == stored_crc,
                 "checkpoint '{}' is corrupt (CRC-32 {:08x}, its header says {:08x}); use an "
                 "earlier checkpoint such as best.ckpt, or train again",
                 path.string(), crc, stored_crc);
    const size_t offset = kHeaderBytes;
    OpenArchive open{bytes, {}};
    try {
        open.archive.load_from(b.data() + offset, b.size() - offset);
    } catch (const std::exception&) {
        HEPGNN_FAIL(
            "'{}' is not a hepgnn checkpoint (cannot be read as one; truncated or another "
            "kind of file?)",
            path.string());
    }
    return open;
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
    HEPGNN_CHECK(j.is_object() && j.value("format", "") == kFormat,
                 "'{}' is not a hepgnn checkpoint", path.string());
    CheckpointState s;
    const std::string where = fmt::format("checkpoint '{}'", path.string());
    try {
        HEPGNN_CHECK(j.value("version", 0) == kVersion,
                     "'{}': checkpoint version {} is not supported (this hepgnn reads {})",
                     path.string(), j.value("version", 0), kVersion);
        s.epoch = json_integer<int64_t>(j.at("epoch"), where);
        s.step = json_integer<int64_t>(j.at("step"), where);
        s.has_best = j.at("has_best").get<bool>();
        s.best_valid_loss = j.at("best_valid_loss").get<double>();
        s.loss_scale = j.value("loss_scale", 1.0);
        if (j.contains("in_epoch")) {
            const auto& p = j.at("in_epoch");
            s.in_epoch.steps_done = json_integer<int64_t>(p.at("steps_done"), where);
            s.in_epoch.loss_sum = p.at("loss_sum").get<double>();
            s.in_epoch.edges = json_integer<int64_t>(p.at("edges"), where);
            s.in_epoch.graphs = json_integer<int64_t>(p.at("graphs"), where);
            s.in_epoch.window_loss_sum = p.at("window_loss_sum").get<double>();
            s.in_epoch.window_edges = json_integer<int64_t>(p.at("window_edges"), where);
            s.in_epoch.window_graphs = json_integer<int64_t>(p.at("window_graphs"), where);
            s.in_epoch.imbalance_sum = p.at("imbalance_sum").get<double>();
            if (p.contains("world_size")) {
                s.in_epoch.world_size = json_integer<int64_t>(p.at("world_size"), where);
                s.in_epoch.replanned = p.at("replanned").get<bool>();
                for (const auto& g : p.at("done_graphs"))
                    s.in_epoch.done_graphs.push_back(json_integer<int64_t>(g, where));
            }
        }
    } catch (const nlohmann::json::exception& e) {
        HEPGNN_FAIL("'{}': corrupt checkpoint metadata: {}", path.string(), e.what());
    }
    HEPGNN_CHECK(
        s.epoch >= 0 && s.step >= 0 && s.in_epoch.steps_done >= 0 && s.in_epoch.world_size >= 0,
        "'{}': corrupt checkpoint metadata (negative epoch, step or world size)", path.string());
    const auto& done = s.in_epoch.done_graphs;
    HEPGNN_CHECK(std::is_sorted(done.begin(), done.end()) &&
                     std::adjacent_find(done.begin(), done.end()) == done.end() &&
                     (done.empty() || done.front() >= 0),
                 "'{}': corrupt checkpoint metadata (done_graphs not sorted unique indices)",
                 path.string());
    HEPGNN_CHECK(j.contains("model"), "'{}': corrupt checkpoint metadata (no model)",
                 path.string());
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
        c.input_dim = json_integer<int64_t>(j.at("input_dim"), where);
        c.hidden_dim = json_integer<int64_t>(j.at("hidden_dim"), where);
        c.n_graph_iters = json_integer<int64_t>(j.at("n_graph_iters"), where);
        c.n_mlp_layers = json_integer<int64_t>(j.at("n_mlp_layers"), where);
        c.aggregation = j.at("aggregation").get<std::string>();
        c.activation = j.at("activation").get<std::string>();
        c.layer_norm = j.at("layer_norm").get<bool>();
        // Checkpoints from before edge features have none.
        c.edge_features = j.value("edge_features", std::string("none"));
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
                             {"imbalance_sum", state.in_epoch.imbalance_sum},
                             {"world_size", state.in_epoch.world_size},
                             {"replanned", state.in_epoch.replanned},
                             {"done_graphs", state.in_epoch.done_graphs}}},
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
    std::string bytes;
    archive.save_to([&](const void* data, size_t n) {
        bytes.append(static_cast<const char*>(data), n);
        return n;
    });
    write_file_atomically(path, with_header(bytes), "checkpoint");
}

CheckpointState read_checkpoint_state(const std::filesystem::path& path) {
    auto open = open_archive(path);
    return parse_state(open.archive, path);
}

CheckpointState load_checkpoint(const std::filesystem::path& path, models::GnnModel& model,
                                torch::optim::Optimizer* optimizer) {
    auto open = open_archive(path);
    auto& archive = open.archive;
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
