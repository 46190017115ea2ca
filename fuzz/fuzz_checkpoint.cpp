// The checkpoint reader, two ways (the first input byte picks):
//  * raw: the input is the whole file, so the header, size and CRC checks
//    (Note [Checkpoint file]) see garbage;
//  * metadata: a valid checkpoint of a small model whose metadata text is the
//    input, behind a correct header, so hepgnn's parsing of the state, model
//    config and features sees it (what a writer bug could produce).
// Each file goes through read_checkpoint_state and load_model.
// Not fuzzed: arbitrary torch archives behind a valid CRC. torch 1.13's reader
// crashes on some (fuzz/README.md); only a crafted file can get one past the
// CRC, and no check of hepgnn's can make torch's parser safe.
#include <torch/torch.h>

#include "core/checksum.hpp"
#include "fuzz/fuzz_input.hpp"
#include "models/gnn_model.hpp"
#include "trainer/checkpoint.hpp"

namespace {

using namespace hepgnn;

/// The file layout of Note [Checkpoint file], written independently here.
std::string with_header(std::string_view archive) {
    std::string out = "HEPGNNCK";
    auto put = [&](uint64_t v, int bytes) {
        for (int i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    };
    put(2, 4);
    put(crc32(archive), 4);
    put(archive.size(), 8);
    out.append(archive);
    return out;
}

/// A checkpoint file of a small model with `meta` as its metadata record.
std::string checkpoint_with_metadata(std::string_view meta) {
    static const std::shared_ptr<models::GnnModel> model = [] {
        models::ModelConfig c;
        c.hidden_dim = 4;
        c.n_graph_iters = 1;
        return models::make_model(c);
    }();
    torch::serialize::OutputArchive archive, model_archive;
    archive.write("meta", c10::IValue(std::string(meta)));
    model->save(model_archive);
    archive.write("model", model_archive);
    std::string bytes;
    archive.save_to([&](const void* data, size_t n) {
        bytes.append(static_cast<const char*>(data), n);
        return n;
    });
    return with_header(bytes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    const auto path = fuzz::write_input(
        "fuzzed.ckpt", data[0] % 2 == 0 ? std::string(in) : checkpoint_with_metadata(in));
    fuzz::expect_clean([&] { trainer::read_checkpoint_state(path); });
    fuzz::expect_clean([&] { trainer::load_model(path); });
    return 0;
}
