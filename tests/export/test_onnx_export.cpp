// ONNX export of the interaction network (models/onnx_export.hpp): parameter checks, the
// model's metadata, and numerics. ONNX Runtime (tests/export/onnx_runner.js, onnxruntime-node)
// runs the exported file and a plain PyTorch implementation of DESIGN §3.3
// (tests/export/reference_in.py, float64) computes the expected logits from the same random
// parameters, on graphs whose receivers crowd onto a few hubs (repeated scatter indices) and
// that have isolated nodes (empty segments). Links neither libtorch nor the C++ model.
//
// Tools: $HEPGNN_PYTHON (default /usr/bin/python3, with torch and onnx), $HEPGNN_NODE (default
// node) and $ONNXRUNTIME_NODE_DIR (default <source>/build/onnxruntime/node_modules/
// onnxruntime-node). Files go to $HEPGNN_ONNX_TEST_DIR (default <tmp>/hepgnn_onnx_export),
// one folder per case, kept for inspection.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "models/gnn_model.hpp"
#include "models/onnx_export.hpp"

#ifndef HEPGNN_SOURCE_DIR
#error "HEPGNN_SOURCE_DIR must name the source tree (for tests/export/*.{js,py})"
#endif

namespace hepgnn::models {
namespace {

namespace fs = std::filesystem;

std::string env_or(const char* name, const std::string& fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : fallback;
}

std::string quote(const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

fs::path work_dir(const std::string& name) {
    const fs::path root =
        env_or("HEPGNN_ONNX_TEST_DIR", (fs::temp_directory_path() / "hepgnn_onnx_export").string());
    const fs::path dir = root / name;
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

/// Runs `command` with its output in `log`; returns "" on success, else the command and log.
std::string run(const std::string& command, const fs::path& log) {
    const int rc = std::system((command + " >" + quote(log.string()) + " 2>&1").c_str());
    if (rc == 0) return "";
    std::ifstream in(log);
    std::stringstream text;
    text << in.rdbuf();
    return "`" + command + "` failed (status " + std::to_string(rc) + "):\n" + text.str();
}

void write_bytes(const fs::path& path, const void* data, size_t size) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
    ASSERT_TRUE(out.good()) << "cannot write " << path;
}

template <typename T>
std::vector<T> read_values(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<T> v(bytes.size() / sizeof(T));
    std::memcpy(v.data(), bytes.data(), v.size() * sizeof(T));
    return v;
}

struct Graph {
    int64_t n = 0, e = 0;
    std::vector<float> x;             // [N, F]
    std::vector<int64_t> edge_index;  // [2, E]
};

/// Receivers crowd onto N/20 hubs for 60% of the edges; the last `isolated` nodes touch no
/// edge (as tests/model/model_test_util.hpp's random_graph).
Graph random_graph(int64_t n, int64_t e, int64_t f, uint64_t seed, int64_t isolated = 3) {
    std::mt19937_64 rng(seed);
    Graph g;
    g.n = n;
    g.e = e;
    std::normal_distribution<float> normal;
    for (int64_t i = 0; i < n * f; ++i) g.x.push_back(normal(rng));
    const int64_t used = std::max<int64_t>(1, n - isolated);
    std::uniform_int_distribution<int64_t> any(0, used - 1);
    std::uniform_int_distribution<int64_t> hub(0, std::max<int64_t>(1, used / 20) - 1);
    std::bernoulli_distribution to_hub(0.6);
    g.edge_index.resize(static_cast<size_t>(2 * e));
    for (int64_t i = 0; i < e; ++i) {
        g.edge_index[i] = any(rng);
        g.edge_index[e + i] = to_hub(rng) ? hub(rng) : any(rng);
    }
    return g;
}

/// torch-like initialisation (U(+-1/sqrt(in))); LayerNorm parameters away from (1, 0) so that
/// a swapped or missing scale or shift shows.
ParameterMap random_parameters(const ModelConfig& config, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> unit(-1.f, 1.f);
    const auto shapes = interaction_network_parameter_shapes(config);
    const std::map<std::string, std::vector<int64_t>> by_name(shapes.begin(), shapes.end());
    ParameterMap params;
    for (const auto& [name, shape] : shapes) {
        NamedTensor t;
        t.shape = shape;
        int64_t numel = 1;
        for (int64_t d : shape) numel *= d;
        const bool norm = name.find(".norm") != std::string::npos;
        const bool weight = name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0;
        // A Linear's fan-in is the weight's second dimension; its bias shares the bound.
        const std::string weight_name = name.substr(0, name.rfind('.')) + ".weight";
        const float bound =
            norm ? 1.f : 1.f / std::sqrt(static_cast<float>(by_name.at(weight_name)[1]));
        for (int64_t i = 0; i < numel; ++i) {
            const float u = unit(rng);
            t.values.push_back(norm ? (weight ? 1.f + 0.3f * u : 0.3f * u) : bound * u);
        }
        params[name] = std::move(t);
    }
    return params;
}

ModelConfig small_config(const std::string& aggregation = "sum",
                         const std::string& activation = "relu", bool layer_norm = true,
                         int64_t n_mlp_layers = 2) {
    ModelConfig c;
    c.hidden_dim = 16;
    c.n_mlp_layers = n_mlp_layers;
    c.n_graph_iters = 3;
    c.aggregation = aggregation;
    c.activation = activation;
    c.layer_norm = layer_norm;
    return c;
}

void write_config_json(const ModelConfig& c, const fs::path& path) {
    std::ofstream out(path);
    out << "{\"input_dim\": " << c.input_dim << ", \"hidden_dim\": " << c.hidden_dim
        << ", \"n_mlp_layers\": " << c.n_mlp_layers << ", \"n_graph_iters\": " << c.n_graph_iters
        << ", \"aggregation\": \"" << c.aggregation << "\", \"activation\": \"" << c.activation
        << "\", \"layer_norm\": " << (c.layer_norm ? "true" : "false") << ", \"edge_features\": \""
        << c.edge_features << "\"}\n";
}

void write_parameters(const ParameterMap& params, const fs::path& dir) {
    std::vector<float> flat;
    std::ofstream manifest(dir / "params.json");
    manifest << "{\"file\": \"params.bin\", \"tensors\": [";
    bool first = true;
    for (const auto& [name, t] : params) {
        manifest << (first ? "" : ", ") << "{\"name\": \"" << name << "\", \"shape\": [";
        for (size_t i = 0; i < t.shape.size(); ++i) manifest << (i ? ", " : "") << t.shape[i];
        manifest << "], \"offset\": " << flat.size() << "}";
        flat.insert(flat.end(), t.values.begin(), t.values.end());
        first = false;
    }
    manifest << "]}\n";
    write_bytes(dir / "params.bin", flat.data(), flat.size() * sizeof(float));
}

onnx::ModelProto parse(const std::string& bytes) {
    onnx::ModelProto model;
    EXPECT_TRUE(model.ParseFromString(bytes));
    return model;
}

// ---- numerics against the PyTorch reference ------------------------------------------------

struct Case {
    std::string label;
    ModelConfig config;
    int opset = 17;
};

// GoogleTest prints the parameter in test listings: its label, not its bytes.
void PrintTo(const Case& c, std::ostream* os) {
    *os << c.label << " (opset " << c.opset << ")";
}

std::vector<Case> numeric_cases() {
    std::vector<Case> cases = {
        {"sum_relu_ln", small_config()},
        {"sum_relu_ln_opset16", small_config(), 16},
        {"mean_relu_ln", small_config("mean")},
        {"max_relu_ln", small_config("max")},
        {"sum_max_relu_ln", small_config("sum_max")},
        {"sum_tanh_ln", small_config("sum", "tanh")},
        {"sum_silu_ln", small_config("sum", "silu")},
        {"sum_relu_no_ln", small_config("sum", "relu", false)},
        {"mean_tanh_no_ln", small_config("mean", "tanh", false)},
        {"max_silu_no_ln_opset16", small_config("max", "silu", false), 16},
        {"sum_max_silu_ln_opset16", small_config("sum_max", "silu"), 16},
        {"sum_relu_ln_L1", small_config("sum", "relu", true, 1)},
        {"mean_silu_no_ln_L1", small_config("mean", "silu", false, 1)},
        {"sum_relu_ln_L3", small_config("sum", "relu", true, 3)},
        {"max_tanh_ln_L3", small_config("max", "tanh", true, 3)},
        {"default", ModelConfig{}},
        {"default_opset16", ModelConfig{}, 16},
        {"default_sum_max", ModelConfig{}},
    };
    cases.back().config.aggregation = "sum_max";
    Case wide{"sum_relu_ln_F5", small_config()};
    wide.config.input_dim = 5;
    cases.push_back(wide);
    Case differences{"sum_relu_ln_edge_differences", small_config()};
    differences.config.edge_features = "differences";
    cases.push_back(differences);
    Case differences16{"max_tanh_ln_edge_differences_opset16", small_config("max", "tanh"), 16};
    differences16.config.edge_features = "differences";
    cases.push_back(differences16);
    return cases;
}

class OnnxNumerics : public ::testing::TestWithParam<Case> {};

TEST_P(OnnxNumerics, MatchesPlainPyTorch) {
    const Case& c = GetParam();
    const fs::path dir = work_dir(c.label);
    const std::string src = HEPGNN_SOURCE_DIR;
    const std::string python = env_or("HEPGNN_PYTHON", "/usr/bin/python3");
    const std::string node = env_or("HEPGNN_NODE", "node");
    const std::string ort_dir =
        env_or("ONNXRUNTIME_NODE_DIR", src + "/build/onnxruntime/node_modules/onnxruntime-node");

    const ParameterMap params = random_parameters(c.config, 1234);
    const fs::path model = dir / "model.onnx";
    write_interaction_network_onnx(c.config, params, model, c.opset);
    write_parameters(params, dir);
    write_config_json(c.config, dir / "config.json");

    // libonnx's Python checker with full_check (includes strict shape inference).
    ASSERT_EQ(run(python + " -c " +
                      quote("import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), "
                            "full_check=True)") +
                      " " + quote(model.string()),
                  dir / "checker.log"),
              "");

    // One file, three graph sizes: N and E are free. "empty" has no edges at all.
    struct Sized {
        const char* name;
        int64_t n, e;
    };
    for (const Sized& s : {Sized{"hubs", 50, 2000}, Sized{"small", 17, 40}, Sized{"empty", 6, 0}}) {
        SCOPED_TRACE(s.name);
        const Graph g = random_graph(s.n, s.e, c.config.input_dim, 99 + s.n);
        const fs::path x = dir / (std::string(s.name) + "_x.bin");
        const fs::path ei = dir / (std::string(s.name) + "_edge_index.bin");
        const fs::path ort_out = dir / (std::string(s.name) + "_onnxruntime.bin");
        const fs::path ref_out = dir / (std::string(s.name) + "_reference.bin");
        write_bytes(x, g.x.data(), g.x.size() * sizeof(float));
        write_bytes(ei, g.edge_index.data(), g.edge_index.size() * sizeof(int64_t));

        ASSERT_EQ(run("ONNXRUNTIME_NODE_DIR=" + quote(ort_dir) + " " + node + " " +
                          quote(src + "/tests/export/onnx_runner.js") + " --model " +
                          quote(model.string()) + " --x " + quote(x.string()) + " --features " +
                          std::to_string(c.config.input_dim) + " --edge-index " +
                          quote(ei.string()) + " --out " + quote(ort_out.string()),
                      dir / (std::string(s.name) + "_onnxruntime.log")),
                  "");
        ASSERT_EQ(
            run(python + " " + quote(src + "/tests/export/reference_in.py") + " --config " +
                    quote((dir / "config.json").string()) + " --params " +
                    quote((dir / "params.json").string()) + " --x " + quote(x.string()) +
                    " --edge-index " + quote(ei.string()) + " --out " + quote(ref_out.string()),
                dir / (std::string(s.name) + "_reference.log")),
            "");

        const auto got = read_values<float>(ort_out);
        const auto want = read_values<double>(ref_out);
        ASSERT_EQ(got.size(), static_cast<size_t>(s.e));
        ASSERT_EQ(want.size(), static_cast<size_t>(s.e));
        double max_diff = 0, max_ref = 0;
        for (size_t i = 0; i < got.size(); ++i) {
            ASSERT_TRUE(std::isfinite(got[i])) << "edge " << i;
            max_diff = std::max(max_diff, std::abs(got[i] - want[i]));
            max_ref = std::max(max_ref, std::abs(want[i]));
        }
        // Absolute for logits of order one, relative for large ones (layer_norm off).
        const double scaled = max_diff / std::max(1.0, max_ref);
        std::cout << "[ onnx     ] " << c.label << " opset " << c.opset << " " << s.name
                  << " N=" << s.n << " E=" << s.e << ": max|diff| " << max_diff << ", max|logit| "
                  << max_ref << ", scaled " << scaled << "\n";
        EXPECT_LE(scaled, 1e-4) << "max |onnxruntime - reference| = " << max_diff
                                << " with max |reference| = " << max_ref;
    }
}

INSTANTIATE_TEST_SUITE_P(Configs, OnnxNumerics, ::testing::ValuesIn(numeric_cases()),
                         [](const ::testing::TestParamInfo<Case>& info) {
                             return info.param.label;
                         });

// ---- the graph itself and the checks on its parameters ---------------------------------------

TEST(OnnxExport, DefaultConfigHasTheDesignParameterCount) {
    int64_t total = 0;
    for (const auto& [name, shape] : interaction_network_parameter_shapes(ModelConfig{})) {
        int64_t numel = 1;
        for (int64_t d : shape) numel *= d;
        total += numel;
    }
    EXPECT_EQ(total, 63425);  // DESIGN §3.3
}

TEST(OnnxExport, ClassifierWithOneLayerIsOneRawLinear) {
    const auto shapes = interaction_network_parameter_shapes(small_config("sum", "relu", true, 1));
    std::vector<std::string> head;
    for (const auto& [name, shape] : shapes)
        if (name.rfind("edge_classifier.", 0) == 0) head.push_back(name);
    EXPECT_EQ(head, (std::vector<std::string>{"edge_classifier.linear0.weight",
                                              "edge_classifier.linear0.bias"}));
}

TEST(OnnxExport, ModelDescribesItself) {
    const ModelConfig config = small_config("mean", "silu");
    const ParameterMap params = random_parameters(config, 7);
    const onnx::ModelProto model = parse(interaction_network_onnx(config, params, 17));
    EXPECT_EQ(model.producer_name(), "hepgnn");
    ASSERT_EQ(model.opset_import_size(), 1);
    EXPECT_EQ(model.opset_import(0).version(), 17);
    EXPECT_NE(model.doc_string().find("aggregation=mean"), std::string::npos);
    ASSERT_EQ(model.metadata_props_size(), 1);
    EXPECT_EQ(model.metadata_props(0).key(), "hepgnn.model_config");
    EXPECT_NE(model.metadata_props(0).value().find("\"activation\": \"silu\""), std::string::npos);

    const auto& g = model.graph();
    ASSERT_EQ(g.input_size(), 2);
    EXPECT_EQ(g.input(0).name(), "x");
    EXPECT_EQ(g.input(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
    EXPECT_EQ(g.input(0).type().tensor_type().shape().dim(0).dim_param(), "N");
    EXPECT_EQ(g.input(0).type().tensor_type().shape().dim(1).dim_value(), 3);
    EXPECT_EQ(g.input(1).name(), "edge_index");
    EXPECT_EQ(g.input(1).type().tensor_type().elem_type(), onnx::TensorProto::INT64);
    EXPECT_EQ(g.input(1).type().tensor_type().shape().dim(0).dim_value(), 2);
    EXPECT_EQ(g.input(1).type().tensor_type().shape().dim(1).dim_param(), "E");
    ASSERT_EQ(g.output_size(), 1);
    EXPECT_EQ(g.output(0).name(), "logits");
    EXPECT_EQ(g.output(0).type().tensor_type().shape().dim(0).dim_param(), "E");

    // Parameters are initializers under their own names, stored once (iterations share them).
    size_t n_params = 0;
    for (const auto& init : g.initializer()) {
        const auto it = params.find(init.name());
        if (it == params.end()) continue;
        ++n_params;
        ASSERT_EQ(init.raw_data().size(), it->second.values.size() * sizeof(float));
        EXPECT_EQ(
            std::memcmp(init.raw_data().data(), it->second.values.data(), init.raw_data().size()),
            0)
            << init.name();
    }
    EXPECT_EQ(n_params, params.size());

    // Every scatter accumulates (Note [ONNX graph]); nodes have readable, unique names.
    int scatters = 0;
    bool named = false;
    for (const auto& node : g.node()) {
        named |= node.name() == "iter2/edge_net/linear0";
        if (node.op_type() != "ScatterElements") continue;
        ++scatters;
        bool add = false;
        for (const auto& a : node.attribute()) add |= a.name() == "reduction" && a.s() == "add";
        EXPECT_TRUE(add) << node.name();
    }
    EXPECT_EQ(scatters, 2 + 2 * 3);  // two degrees, two sums per iteration
    EXPECT_TRUE(named);
}

// libonnx's inference, with data propagation, carries N and E through the whole sum/mean
// graph (not through Loop, so max and sum_max end untyped after their first Loop).
TEST(OnnxExport, ShapeInferenceFindsNodeAndEdgeShapes) {
    for (const auto& aggregation : {"sum", "mean"}) {
        for (int opset : {16, 17}) {
            SCOPED_TRACE(std::string(aggregation) + " opset " + std::to_string(opset));
            const ModelConfig config = small_config(aggregation);
            onnx::ModelProto model =
                parse(interaction_network_onnx(config, random_parameters(config, 5), opset));
            onnx::shape_inference::InferShapes(model, onnx::OpSchemaRegistry::Instance(),
                                               onnx::ShapeInferenceOptions(true, 1, true));
            std::map<std::string, std::vector<std::string>> shapes;
            for (const auto& v : model.graph().value_info()) {
                auto& dims = shapes[v.name()];
                for (const auto& d : v.type().tensor_type().shape().dim())
                    dims.push_back(d.has_dim_param() ? d.dim_param()
                                                     : std::to_string(d.dim_value()));
            }
            using Dims = std::vector<std::string>;
            EXPECT_EQ(shapes["iter2/e"], (Dims{"E", "16"}));
            EXPECT_EQ(shapes["iter2/aggregate_in/sum"], (Dims{"N", "16"}));
            EXPECT_EQ(shapes["iter2/node_net/concat"], (Dims{"N", "48"}));
            EXPECT_EQ(shapes["iter2/x"], (Dims{"N", "16"}));
            EXPECT_EQ(shapes["classify/edge_classifier/linear1"], (Dims{"E", "1"}));
        }
    }
}

TEST(OnnxExport, WritesAtomically) {
    const fs::path dir = work_dir("atomic");
    const ModelConfig config = small_config();
    const fs::path out = dir / "sub" / "model.onnx";
    write_interaction_network_onnx(config, random_parameters(config, 1), out);
    write_interaction_network_onnx(config, random_parameters(config, 2), out);
    std::ifstream in(out, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(parse(bytes).producer_name(), "hepgnn");
    EXPECT_EQ(std::distance(fs::directory_iterator(dir / "sub"), fs::directory_iterator()), 1);
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
    try {
        f();
        ADD_FAILURE() << "no hepgnn::Error";
    } catch (const Error& e) {
        for (const auto& p : parts)
            EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
                << "'" << p << "' not in: " << e.what();
    }
}

TEST(OnnxExport, NamesTheOffendingParameter) {
    const ModelConfig config = small_config();
    const ParameterMap good = random_parameters(config, 3);

    ParameterMap missing = good;
    missing.erase("node_net.norm1.bias");
    expect_error([&] { interaction_network_onnx(config, missing); },
                 {"node_net.norm1.bias", "missing", "[16]"});

    ParameterMap reshaped = good;
    reshaped["edge_net.linear0.weight"].shape = {48, 16};
    expect_error([&] { interaction_network_onnx(config, reshaped); },
                 {"edge_net.linear0.weight", "[48, 16]", "[16, 48]"});

    ParameterMap short_values = good;
    short_values["edge_classifier.linear1.bias"].values.clear();
    expect_error([&] { interaction_network_onnx(config, short_values); },
                 {"edge_classifier.linear1.bias", "0 values"});

    ParameterMap extra = good;
    extra["edge_classifier.norm1.weight"] = {{1}, {1.f}};
    expect_error([&] { interaction_network_onnx(config, extra); },
                 {"unexpected parameter 'edge_classifier.norm1.weight'"});

    // layer_norm off: the norms become unexpected.
    ModelConfig no_ln = config;
    no_ln.layer_norm = false;
    expect_error([&] { interaction_network_onnx(no_ln, good); }, {"unexpected parameter"});
}

TEST(OnnxExport, RejectsWhatItCannotExport) {
    const ModelConfig config = small_config();
    const ParameterMap params = random_parameters(config, 4);
    expect_error([&] { interaction_network_onnx(config, params, 18); }, {"opset 18", "16 or 17"});
    expect_error([&] { interaction_network_onnx(config, params, 13); }, {"opset 13"});
    ModelConfig agnn = config;
    agnn.name = "agnn";
    expect_error([&] { interaction_network_onnx(agnn, params); }, {"model.name = agnn"});
    ModelConfig bad = config;
    bad.aggregation = "min";
    expect_error([&] { interaction_network_onnx(bad, params); }, {"model.aggregation", "min"});
    bad = config;
    bad.activation = "gelu";
    expect_error([&] { interaction_network_onnx(bad, params); }, {"model.activation", "gelu"});
}

}  // namespace
}  // namespace hepgnn::models
