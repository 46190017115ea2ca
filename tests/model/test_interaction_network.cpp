#include <ATen/Parallel.h>

#include <map>

#include "core/error.hpp"
#include "model_test_util.hpp"
#include "models/checkpoint.hpp"
#include "models/interaction_network.hpp"

namespace hepgnn::models {
namespace {

using testing::bit_identical;
using testing::expect_gradients_match_finite_differences;
using testing::random_graph;
using testing::scaled_error;

/// Sets the intra-op thread count for one test and restores it afterwards.
class ThreadScope {
public:
    explicit ThreadScope(int n) : saved_(at::get_num_threads()) { at::set_num_threads(n); }
    ~ThreadScope() { at::set_num_threads(saved_); }

private:
    int saved_;
};

struct ForwardBackward {
    torch::Tensor logits;
    std::map<std::string, torch::Tensor> grads;
};

/// Logits and parameter gradients of L = <logits, w> with a fixed random w.
template <typename Forward>
ForwardBackward forward_backward(torch::nn::Module& model, Forward forward, uint64_t seed = 5) {
    model.zero_grad();
    ForwardBackward r;
    r.logits = forward();
    torch::manual_seed(seed);
    auto w = torch::randn_like(r.logits);
    (r.logits * w).sum().backward();
    for (const auto& p : model.named_parameters()) r.grads[p.key()] = p.value().grad().clone();
    r.logits = r.logits.detach();
    return r;
}

TEST(InteractionNetwork, DefaultHasExactly63425Parameters) {
    InteractionNetwork model{ModelConfig{}};
    EXPECT_EQ(count_parameters(model), 63425);
}

TEST(InteractionNetwork, ParameterNamesAreStable) {
    InteractionNetwork model{ModelConfig{}};
    std::vector<std::string> names;
    for (const auto& p : model.named_parameters()) names.push_back(p.key());
    const std::vector<std::string> expected = {
        "node_encoder.linear0.weight",    "node_encoder.linear0.bias",
        "node_encoder.norm0.weight",      "node_encoder.norm0.bias",
        "node_encoder.linear1.weight",    "node_encoder.linear1.bias",
        "node_encoder.norm1.weight",      "node_encoder.norm1.bias",
        "edge_encoder.linear0.weight",    "edge_encoder.linear0.bias",
        "edge_encoder.norm0.weight",      "edge_encoder.norm0.bias",
        "edge_encoder.linear1.weight",    "edge_encoder.linear1.bias",
        "edge_encoder.norm1.weight",      "edge_encoder.norm1.bias",
        "edge_net.linear0.weight",        "edge_net.linear0.bias",
        "edge_net.norm0.weight",          "edge_net.norm0.bias",
        "edge_net.linear1.weight",        "edge_net.linear1.bias",
        "edge_net.norm1.weight",          "edge_net.norm1.bias",
        "node_net.linear0.weight",        "node_net.linear0.bias",
        "node_net.norm0.weight",          "node_net.norm0.bias",
        "node_net.linear1.weight",        "node_net.linear1.bias",
        "node_net.norm1.weight",          "node_net.norm1.bias",
        "edge_classifier.linear0.weight", "edge_classifier.linear0.bias",
        "edge_classifier.norm0.weight",   "edge_classifier.norm0.bias",
        "edge_classifier.linear1.weight", "edge_classifier.linear1.bias"};
    EXPECT_EQ(names, expected);
    EXPECT_EQ(model.edge_net()->first_linear()->weight.sizes(), torch::IntArrayRef({64, 192}));
}

TEST(InteractionNetwork, SumMaxWidensTheNodeNetwork) {
    ModelConfig c;
    c.aggregation = "sum_max";
    InteractionNetwork model{c};
    EXPECT_EQ(model.node_net()->first_linear()->weight.sizes(), torch::IntArrayRef({64, 320}));
    EXPECT_EQ(count_parameters(model), 63425 + 2 * 64 * 64);
}

TEST(InteractionNetwork, RejectsWrongFeatureCount) {
    InteractionNetwork model{ModelConfig{}};
    auto g = random_graph(10, 20, 1, /*n_features=*/4);
    try {
        model.forward(g);
        FAIL() << "no error for 4 features";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("model.input_dim"), std::string::npos) << e.what();
    }
}

// ---- the fast formulation equals the plain one ----------------------------------------------
//
// Note [Comparing max aggregations in float32]
// The gradient of a max is discontinuous where two edges tie. On a graph whose hubs receive
// ~160 edges, 64 channels and 8 iterations give tens of thousands of (node, channel) maxima,
// and a few of them are near-ties closer than float32 rounding (~1e-7). Any two float32
// computations of the same function (plain_forward against itself in float64, or fast against
// plain) then route a node's whole gradient to different edges there, so parameter gradients
// differ by up to ~1e-2 depending on the seed, while the logits (continuous) agree to ~1e-7.
// ReLU has the same kink: of the ~4M pre-activations of a step a few lie within rounding of 0,
// and plain_forward on 1 thread against itself on 2 threads (OpenBLAS splits its sums
// differently) differs by up to 3e-3 in float32 gradients with sum aggregation, seed by seed.
// So every gradient is compared in float64, where rounding cannot flip a kink (and must agree
// to 1e-10); in float32 the logits of every case agree to 1e-5, and so do all parameter
// gradients for sum and mean with tanh, which has no kink.

using FastPlainCase = std::tuple<std::string, bool, torch::Dtype>;

class FastEqualsPlain : public ::testing::TestWithParam<FastPlainCase> {};

TEST_P(FastEqualsPlain, LogitsAndEveryParameterGradient) {
    ThreadScope threads(2);
    const auto& [aggregation, checkpointing, dtype] = GetParam();
    // 300 nodes, 4000 edges; 60% of the receivers are 15 hub nodes; 3 isolated nodes.
    auto g = random_graph(300, 4000, 21, 3, dtype);
    const bool float32 = dtype == torch::kFloat32;
    ModelConfig c;
    c.aggregation = aggregation;
    c.checkpointing = checkpointing;
    if (float32) c.activation = "tanh";  // Note [Comparing max aggregations in float32]
    torch::manual_seed(3);
    InteractionNetwork model{c};
    model.to(dtype);

    auto fast = forward_backward(model, [&] { return model.forward(g); });
    auto plain = forward_backward(model, [&] { return plain_forward(model, g); });

    const double tolerance = float32 ? 1e-5 : 1e-10;
    const bool compare_gradients = !float32 || aggregation == "sum" || aggregation == "mean";
    ASSERT_EQ(fast.logits.sizes(), torch::IntArrayRef({g.num_edges()}));
    const double logit_error = scaled_error(fast.logits, plain.logits);
    EXPECT_LE(logit_error, tolerance);
    double worst = 0;
    std::string worst_name;
    for (const auto& [name, grad] : plain.grads) {
        const double err = scaled_error(fast.grads.at(name), grad);
        if (compare_gradients) {
            EXPECT_LE(err, tolerance) << name;
        }
        if (err >= worst) worst = err, worst_name = name;
    }
    std::printf("    [%s, %s, %s, checkpointing %s] logits %.2e, worst gradient %.2e (%s)%s\n",
                c10::toString(dtype), aggregation.c_str(), c.activation.c_str(),
                checkpointing ? "on" : "off", logit_error, worst, worst_name.c_str(),
                compare_gradients ? "" : " (not checked: Note [Comparing max aggregations])");
}

INSTANTIATE_TEST_SUITE_P(Aggregations, FastEqualsPlain,
                         ::testing::Combine(::testing::Values("sum", "mean", "max", "sum_max"),
                                            ::testing::Bool(),
                                            ::testing::Values(torch::kFloat32, torch::kFloat64)));

TEST(InteractionNetwork, EdgeDifferencesWidenTheEncoderAndMatchPlainWithGradients) {
    auto g = random_graph(300, 3000, 12, 3, torch::kFloat64);
    ModelConfig c;
    c.edge_features = "differences";
    torch::manual_seed(6);
    InteractionNetwork model{c};
    model.to(torch::kFloat64);
    // 63,425 + H * F: the encoder's first Linear reads [x_s, x_r, x_r - x_s].
    EXPECT_EQ(count_parameters(model), 63425 + 64 * 3);
    EXPECT_EQ(model.edge_encoder()->first_linear()->weight.sizes(),
              torch::IntArrayRef({64, 2 * 64 + 3}));
    auto fast = forward_backward(model, [&] { return model.forward(g); });
    auto plain = forward_backward(model, [&] { return plain_forward(model, g); });
    EXPECT_LE(scaled_error(fast.logits, plain.logits), 1e-10);
    for (const auto& [name, grad] : plain.grads)
        EXPECT_LE(scaled_error(fast.grads.at(name), grad), 1e-10) << name;
    // The differences are used: moving every node by the same offset keeps them but changes
    // x_s and x_r, and zeroing the encoder's difference columns changes the logits.
    torch::NoGradGuard no_grad;
    const auto before = model.forward(g);
    model.edge_encoder()->first_linear()->weight.narrow(1, 128, 3).zero_();
    EXPECT_GT(scaled_error(model.forward(g), before), 1e-3);
    ModelConfig agnn;
    agnn.name = "agnn";
    agnn.edge_features = "differences";
    EXPECT_THROW(make_model(agnn), Error);
    ModelConfig typo;
    typo.edge_features = "difference";
    try {
        make_model(typo);
        ADD_FAILURE() << "model.edge_features = difference was accepted";
    } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("model.edge_features"), std::string::npos);
    }
}

TEST(InteractionNetwork, SingleLayerMlpsEqualPlain) {
    // L = 1: the output head is a lone Linear(3H, 1), still computed by the split form.
    // Without layer norm this network is badly conditioned (float32 gradients of either form
    // are ~1e-4 away from float64), so compare in float64.
    auto g = random_graph(50, 400, 8, 3, torch::kFloat64);
    ModelConfig c;
    c.n_mlp_layers = 1;
    c.layer_norm = false;
    c.activation = "tanh";
    c.hidden_dim = 16;
    InteractionNetwork model{c};
    model.to(torch::kFloat64);
    EXPECT_EQ(model.edge_classifier()->linears().size(), 1u);
    auto fast = forward_backward(model, [&] { return model.forward(g); });
    auto plain = forward_backward(model, [&] { return plain_forward(model, g); });
    EXPECT_LE(scaled_error(fast.logits, plain.logits), 1e-10);
    for (const auto& [name, grad] : plain.grads)
        EXPECT_LE(scaled_error(fast.grads.at(name), grad), 1e-10) << name;
}

// ---- the fused inference forward (no-grad) equals the differentiable one ----------------------

// (aggregation, activation, layer_norm, n_mlp_layers, hidden_dim, dtype, edge_features). Hidden
// 64 in float32 takes the AVX-512 panel kernel, with its row work in registers for ReLU and
// layer norm (Note [Fused row epilogue]; with one layer per MLP, the edge net's fused product
// reads and writes e in place); other widths and float64 take the generic products.
using InferenceCase =
    std::tuple<std::string, std::string, bool, int64_t, int64_t, torch::Dtype, std::string>;

class InferenceForward : public ::testing::TestWithParam<InferenceCase> {};

TEST_P(InferenceForward, EqualsTheTrainingAndPlainForwardsForAnyThreadCount) {
    const auto& [aggregation, activation, layer_norm, layers, hidden, dtype, edge_features] =
        GetParam();
    auto g = random_graph(700, 6000, 17, 3, dtype);  // chunks of 256 edges: a partial last one
    ModelConfig c;
    c.aggregation = aggregation;
    c.activation = activation;
    c.layer_norm = layer_norm;
    c.n_mlp_layers = layers;
    c.hidden_dim = hidden;
    c.edge_features = edge_features;
    c.checkpointing = true;  // ignored without autograd
    torch::manual_seed(4);
    InteractionNetwork model{c};
    model.to(dtype);
    const auto differentiable = model.forward(g).detach();
    torch::NoGradGuard no_grad;
    const auto plain = plain_forward(model, g);
    torch::Tensor one_thread, two_threads;
    {
        ThreadScope threads(1);
        one_thread = model.forward(g);
    }
    {
        ThreadScope threads(2);
        two_threads = model.forward(g);
    }
    const double tolerance = dtype == torch::kFloat32 ? 1e-5 : 1e-10;
    ASSERT_EQ(one_thread.sizes(), torch::IntArrayRef({g.num_edges()}));
    EXPECT_LE(scaled_error(one_thread, differentiable), tolerance);
    EXPECT_LE(scaled_error(one_thread, plain), tolerance);
    EXPECT_TRUE(bit_identical(one_thread, two_threads));
}

INSTANTIATE_TEST_SUITE_P(
    Configs, InferenceForward,
    ::testing::Values(InferenceCase{"sum", "relu", true, 2, 64, torch::kFloat32, "none"},
                      InferenceCase{"mean", "tanh", true, 2, 64, torch::kFloat32, "none"},
                      InferenceCase{"max", "silu", true, 2, 64, torch::kFloat32, "none"},
                      InferenceCase{"sum_max", "relu", true, 3, 64, torch::kFloat32, "none"},
                      InferenceCase{"sum", "tanh", false, 2, 32, torch::kFloat32, "none"},
                      InferenceCase{"sum", "relu", true, 2, 64, torch::kFloat64, "none"},
                      InferenceCase{"mean", "silu", false, 1, 16, torch::kFloat64, "none"},
                      InferenceCase{"sum_max", "tanh", true, 3, 24, torch::kFloat64, "none"},
                      InferenceCase{"sum", "relu", true, 2, 64, torch::kFloat32, "differences"},
                      InferenceCase{"sum", "relu", true, 1, 64, torch::kFloat32, "differences"},
                      InferenceCase{"max", "tanh", false, 1, 16, torch::kFloat64, "differences"}));

TEST(InferenceForward, TheOpFromEdgeIndexEqualsTheModel) {
    auto g = random_graph(300, 2000, 9);
    InteractionNetwork model{ModelConfig{}};
    torch::NoGradGuard no_grad;
    const auto edge_index = torch::stack({g.senders, g.receivers});
    const auto op =
        ops::interaction_network_inference(g.x, edge_index, model.parameters(), model.shape());
    EXPECT_TRUE(bit_identical(op, model.forward(g)));
}

TEST(InferenceForward, RejectsParametersOfAnotherShapeAndEdgesOutsideTheGraph) {
    auto g = random_graph(50, 200, 9);
    InteractionNetwork model{ModelConfig{}};
    const auto edge_index = torch::stack({g.senders, g.receivers});
    auto params = model.parameters();
    auto shape = model.shape();
    auto message = [&](const torch::Tensor& x, const torch::Tensor& ei,
                       const std::vector<torch::Tensor>& p, const ops::InteractionNetworkShape& s) {
        try {
            ops::interaction_network_inference(x, ei, p, s);
        } catch (const c10::Error& e) {
            return std::string(e.what_without_backtrace());
        }
        return std::string("no error");
    };
    shape.n_mlp_layers = 3;
    EXPECT_NE(message(g.x, edge_index, params, shape).find("has shape"), std::string::npos);
    shape = model.shape();
    params.pop_back();
    EXPECT_NE(message(g.x, edge_index, params, shape).find("parameters given"), std::string::npos);
    params = model.parameters();
    auto bad = edge_index.clone();
    bad[1][7] = 50;
    EXPECT_NE(message(g.x, bad, params, shape).find("receivers[7] = 50 is not a node index"),
              std::string::npos)
        << message(g.x, bad, params, shape);
}

// ---- determinism --------------------------------------------------------------------------

class Determinism : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(Determinism, TwoRunsGiveBitIdenticalGradientsWithTwoThreads) {
    ThreadScope threads(2);
    const auto& [aggregation, checkpointing] = GetParam();
    auto g = random_graph(2000, 12000, 13);
    ModelConfig c;
    c.aggregation = aggregation;
    c.checkpointing = checkpointing;
    InteractionNetwork model{c};
    auto first = forward_backward(model, [&] { return model.forward(g); });
    auto second = forward_backward(model, [&] { return model.forward(g); });
    EXPECT_TRUE(bit_identical(first.logits, second.logits));
    for (const auto& [name, grad] : first.grads)
        EXPECT_TRUE(bit_identical(grad, second.grads.at(name))) << name;
}

INSTANTIATE_TEST_SUITE_P(Configs, Determinism,
                         ::testing::Values(std::make_tuple("sum", false),
                                           std::make_tuple("sum_max", true)));

// ---- checkpointing, float64 against central differences ---------------------------------------

TEST(Checkpoint, GradientsOfAFunctionMatchFiniteDifferencesAndPlainAutograd) {
    auto opts = torch::TensorOptions().dtype(torch::kFloat64).requires_grad(true);
    auto a = torch::randn({5, 3}, opts), b = torch::randn({5, 3}, opts);
    auto w = torch::randn({3, 3}, opts);
    auto fn = [&](const std::vector<torch::Tensor>& in) {
        return std::vector<torch::Tensor>{torch::tanh(in[0].mm(w)) * in[1], in[0].sum(1)};
    };
    expect_gradients_match_finite_differences(
        [&] {
            return checkpoint(fn, {a, b}, {w});
        },
        {a, b, w});
    // Same gradients as without the checkpoint, and nothing for an input without grad.
    auto c = torch::randn({5, 3}, torch::kFloat64);
    auto outs = checkpoint(fn, {a, c}, {w});
    auto g1 = torch::autograd::grad({outs[0].sum() + outs[1].sum()}, {a, w});
    auto ref = fn({a, c});
    auto g2 = torch::autograd::grad({ref[0].sum() + ref[1].sum()}, {a, w});
    EXPECT_TRUE(torch::allclose(g1[0], g2[0]));
    EXPECT_TRUE(torch::allclose(g1[1], g2[1]));
}

TEST(Checkpoint, CheckpointedIterationsMatchFiniteDifferences) {
    // Every parameter of a small float64 network whose iterations are all checkpointed, and
    // the input features; smooth activation (silu) and sum_max so max is covered too.
    auto g = random_graph(10, 30, 17, 3, torch::kFloat64, 1);
    g.x.requires_grad_(true);
    ModelConfig c;
    c.hidden_dim = 4;
    c.n_graph_iters = 2;
    c.aggregation = "sum_max";
    c.activation = "silu";
    c.checkpointing = true;
    InteractionNetwork model{c};
    model.to(torch::kFloat64);
    std::vector<torch::Tensor> wrt = model.parameters();
    wrt.push_back(g.x);
    expect_gradients_match_finite_differences(
        [&] { return std::vector<torch::Tensor>{model.forward(g)}; }, wrt);
}

}  // namespace
}  // namespace hepgnn::models
