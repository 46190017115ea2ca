// A plain libtorch client of a hepgnn TorchScript export, as ACTS's would be: it links libtorch
// only, loads the custom-op library with dlopen (when given), loads the model with
// torch::jit::load and runs it. For the export tests (logits against hepgnn's own) and the
// inference benchmark (median time of repeated runs).
//
//   hepgnn_torchscript_client --model M.pt --x X.f32 --features F --edge-index EI.i64
//       [--ops-library libhepgnn_ops.so] [--out LOGITS.f32] [--repeat N] [--threads T]
//
// X.f32: float32 [N, F] row-major; EI.i64: int64 [2, E] (senders, then receivers). Prints one
// line: nodes, edges, and the median and minimum forward time in ms.
#include <ATen/Parallel.h>
#include <dlfcn.h>
#include <torch/script.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

template <typename T>
std::vector<T> read_raw(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read " + path);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (bytes.size() % sizeof(T) != 0)
        throw std::runtime_error(path + ": size is not a multiple of " + std::to_string(sizeof(T)));
    std::vector<T> values(bytes.size() / sizeof(T));
    std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(values.data()));
    return values;
}

int run(int argc, char** argv) {
    std::map<std::string, std::string> args{{"--repeat", "1"}, {"--threads", "0"}};
    for (int i = 1; i + 1 < argc; i += 2) args[argv[i]] = argv[i + 1];
    for (const char* key : {"--model", "--x", "--features", "--edge-index"})
        if (!args.count(key)) throw std::runtime_error(std::string("missing ") + key);
    if (args.count("--ops-library") &&
        dlopen(args["--ops-library"].c_str(), RTLD_NOW | RTLD_GLOBAL) == nullptr)
        throw std::runtime_error(std::string("dlopen: ") + dlerror());
    if (const int threads = std::stoi(args["--threads"]); threads > 0) at::set_num_threads(threads);

    auto x_values = read_raw<float>(args["--x"]);
    auto ei_values = read_raw<int64_t>(args["--edge-index"]);
    const int64_t f = std::stoll(args["--features"]);
    const int64_t n = static_cast<int64_t>(x_values.size()) / f;
    const int64_t e = static_cast<int64_t>(ei_values.size()) / 2;
    const auto x = torch::from_blob(x_values.data(), {n, f}, torch::kFloat32);
    const auto edge_index = torch::from_blob(ei_values.data(), {2, e}, torch::kInt64);

    torch::jit::Module module = torch::jit::load(args["--model"]);
    module.eval();
    torch::NoGradGuard no_grad;
    std::vector<double> ms;
    torch::Tensor logits;
    for (int r = 0; r < std::stoi(args["--repeat"]); ++r) {
        const auto start = std::chrono::steady_clock::now();
        logits = module.forward({x, edge_index}).toTensor().contiguous();
        ms.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
    }
    if (logits.dim() != 1 || logits.size(0) != e)
        throw std::runtime_error("the model returned shape " + c10::str(logits.sizes()));
    if (args.count("--out")) {
        std::ofstream out(args["--out"], std::ios::binary);
        out.write(reinterpret_cast<const char*>(logits.data_ptr<float>()), e * sizeof(float));
        if (!out) throw std::runtime_error("cannot write " + args["--out"]);
    }
    std::vector<double> sorted = ms;
    std::sort(sorted.begin(), sorted.end());
    std::printf("nodes %lld edges %lld median_ms %.1f min_ms %.1f runs %zu\n",
                static_cast<long long>(n), static_cast<long long>(e), sorted[sorted.size() / 2],
                sorted.front(), sorted.size());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const c10::Error& e) {
        std::fprintf(stderr, "hepgnn_torchscript_client: %s\n", e.what_without_backtrace());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hepgnn_torchscript_client: %s\n", e.what());
    }
    return 1;
}
