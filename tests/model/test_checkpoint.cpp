// Checkpoints: a round trip restores parameters and state exactly, and a
// damaged file (a bit flipped anywhere, a cut, bytes appended, no header) is
// refused with one line naming it, by both readers (Note [Checkpoint file]).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>

#include "core/error.hpp"
#include "core/text_file.hpp"
#include "model_test_util.hpp"
#include "models/gnn_model.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/optimization.hpp"

namespace hepgnn::trainer {
namespace {

namespace fs = std::filesystem;

fs::path fresh_dir(const std::string& name) {
    const fs::path dir =
        fs::temp_directory_path() / ("hepgnn_ckpt_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

void write_bytes(const fs::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

models::ModelConfig small_model() {
    models::ModelConfig c;
    c.hidden_dim = 8;
    c.n_graph_iters = 2;
    return c;
}

CheckpointState some_state() {
    CheckpointState s;
    s.epoch = 3;
    s.step = 41;
    s.has_best = true;
    s.best_valid_loss = 0.125;
    s.in_epoch.steps_done = 5;
    s.in_epoch.loss_sum = 2.5;
    s.loss_scale = 1024;
    s.model = small_model();
    return s;
}

/// A checkpoint of a small model with Adam state after one step.
std::string saved_checkpoint(const fs::path& path, models::GnnModel& model) {
    auto optimizer = make_optimizer(model.parameters(), OptimizerConfig{});
    for (auto& p : model.parameters()) p.mutable_grad() = torch::ones_like(p);
    optimizer->step();
    save_checkpoint(path, model, optimizer.get(), some_state());
    return read_text_file(path);
}

/// The message of the hepgnn::Error that each reader throws for `path`; fails
/// the test when a reader accepts the file or throws anything else.
std::vector<std::string> errors_of(const fs::path& path) {
    std::vector<std::string> errors;
    auto expect_error = [&](const std::function<void()>& read, const char* reader) {
        try {
            read();
            ADD_FAILURE() << reader << " accepted the damaged file " << path;
        } catch (const Error& e) {
            errors.emplace_back(e.what());
        } catch (const std::exception& e) {
            ADD_FAILURE() << reader << " threw a non-hepgnn error: " << e.what();
        }
    };
    expect_error([&] { read_checkpoint_state(path); }, "read_checkpoint_state");
    expect_error([&] { load_model(path); }, "load_model");
    return errors;
}

void expect_one_line_naming(const std::vector<std::string>& errors, const fs::path& path) {
    for (const auto& e : errors) {
        EXPECT_NE(e.find(path.string()), std::string::npos) << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    }
}

TEST(CheckpointFile, RoundTripRestoresParametersAndState) {
    const auto dir = fresh_dir("roundtrip");
    auto model = models::make_model(small_model());
    saved_checkpoint(dir / "a.ckpt", *model);
    CheckpointState state;
    auto loaded = load_model(dir / "a.ckpt", &state);
    const auto a = model->named_parameters(), b = loaded->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    for (const auto& p : a)
        EXPECT_TRUE(models::testing::bit_identical(p.value(), b[p.key()])) << p.key();
    EXPECT_EQ(state.epoch, 3);
    EXPECT_EQ(state.step, 41);
    EXPECT_EQ(state.in_epoch.steps_done, 5);
    EXPECT_DOUBLE_EQ(state.best_valid_loss, 0.125);
    EXPECT_DOUBLE_EQ(state.loss_scale, 1024);
    EXPECT_EQ(model_config_difference(state.model, small_model()), "");
    EXPECT_FALSE(fs::exists(dir / ("a.ckpt.tmp." + std::to_string(::getpid()))));
}

TEST(CheckpointFile, ABitFlippedAnywhereIsRefused) {
    const auto dir = fresh_dir("bitflip");
    auto model = models::make_model(small_model());
    const std::string good = saved_checkpoint(dir / "good.ckpt", *model);
    ASSERT_GT(good.size(), 1000u);
    // Every header byte, then positions spread over the archive (its zip
    // headers, the metadata, the tensors and the central directory at the end).
    std::vector<size_t> positions;
    for (size_t i = 0; i < 24; ++i) positions.push_back(i);
    for (size_t k = 0; k < 64; ++k) positions.push_back(24 + k * (good.size() - 25) / 63);
    const fs::path bad = dir / "bad.ckpt";
    for (size_t pos : positions) {
        for (int bit : {0, 7}) {
            std::string damaged = good;
            damaged[pos] = static_cast<char>(damaged[pos] ^ (1 << bit));
            write_bytes(bad, damaged);
            SCOPED_TRACE("byte " + std::to_string(pos) + " bit " + std::to_string(bit));
            const auto errors = errors_of(bad);
            expect_one_line_naming(errors, bad);
        }
    }
}

TEST(CheckpointFile, ACutOrExtendedFileIsRefused) {
    const auto dir = fresh_dir("truncated");
    auto model = models::make_model(small_model());
    const std::string good = saved_checkpoint(dir / "good.ckpt", *model);
    const fs::path bad = dir / "bad.ckpt";
    for (size_t n : {size_t{0}, size_t{5}, size_t{8}, size_t{23}, size_t{24}, size_t{100},
                     good.size() / 2, good.size() - 1}) {
        SCOPED_TRACE("cut to " + std::to_string(n) + " bytes");
        write_bytes(bad, good.substr(0, n));
        const auto errors = errors_of(bad);
        expect_one_line_naming(errors, bad);
        if (n >= 24)
            for (const auto& e : errors) EXPECT_NE(e.find("truncated"), std::string::npos) << e;
    }
    write_bytes(bad, good + "garbage");
    expect_one_line_naming(errors_of(bad), bad);
}

TEST(CheckpointFile, BareTorchArchivesAreRefused) {
    // hepgnn before checksums wrote the torch archive alone; its damage would
    // reach torch's reader unchecked, so it is refused with what to do.
    const auto dir = fresh_dir("legacy");
    auto model = models::make_model(small_model());
    const std::string good = saved_checkpoint(dir / "good.ckpt", *model);
    ASSERT_EQ(good.compare(0, 8, "HEPGNNCK"), 0);
    write_bytes(dir / "old.ckpt", good.substr(24));
    const auto errors = errors_of(dir / "old.ckpt");
    expect_one_line_naming(errors, dir / "old.ckpt");
    for (const auto& e : errors) EXPECT_NE(e.find("before checksums"), std::string::npos) << e;
}

TEST(CheckpointFile, SavingReplacesTheOldFileWhole) {
    const auto dir = fresh_dir("replace");
    auto model = models::make_model(small_model());
    const std::string first = saved_checkpoint(dir / "last.ckpt", *model);
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.add_(1.0);
    const std::string second = saved_checkpoint(dir / "last.ckpt", *model);
    EXPECT_NE(first, second);
    EXPECT_EQ(read_text_file(dir / "last.ckpt"), second);
    size_t files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir)) ++files;
    EXPECT_EQ(files, 1u);  // no temporary file left beside it
}

}  // namespace
}  // namespace hepgnn::trainer
