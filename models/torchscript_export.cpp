#include "models/torchscript_export.hpp"

#include <fmt/format.h>
#include <torch/csrc/jit/frontend/resolver.h>
#include <torch/script.h>
#include <torch/torch.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "models/interaction_network.hpp"

namespace hepgnn::models {
namespace {

std::string attribute_name(const std::string& parameter) {
    std::string name = parameter;
    for (auto& c : name)
        if (c == '.') c = '_';
    return name;
}

std::string activation_call(const std::string& activation, const std::string& arg) {
    if (activation == "relu") return fmt::format("torch.relu({})", arg);
    if (activation == "tanh") return fmt::format("torch.tanh({})", arg);
    if (activation == "silu") return fmt::format("torch.silu({})", arg);
    HEPGNN_FAIL("export: unsupported activation '{}'", activation);
}

/// A TorchScript method computing the Mlp registered as `name`.
std::string mlp_method(const std::string& name, const Mlp& mlp, const std::string& activation) {
    const auto& opt = mlp->options();
    std::string body = fmt::format("def {}(self, h: Tensor) -> Tensor:\n", name);
    for (size_t i = 0; i < opt.sizes.size(); ++i) {
        const std::string p = fmt::format("self.{}_", name);
        body +=
            fmt::format("    h = torch.linear(h, {0}linear{1}_weight, {0}linear{1}_bias)\n", p, i);
        if (i + 1 == opt.sizes.size() && !opt.output_activation) break;
        if (opt.layer_norm)
            body += fmt::format(
                "    h = torch.layer_norm(h, [{2}], {0}norm{1}_weight, {0}norm{1}_bias, 1e-05, "
                "False)\n",
                p, i, opt.sizes[i]);
        body += fmt::format("    h = {}\n", activation_call(activation, "h"));
    }
    return body + "    return h\n";
}

/// The aggregation over edges into nodes, as TorchScript ("{idx}" is s or r).
std::string aggregate_expr(Aggregation aggregation, const std::string& idx,
                           const std::string& inv_degree) {
    const std::string sum = fmt::format("torch.zeros_like(h).index_add_(0, {}, e)", idx);
    const std::string max = fmt::format(
        "torch.zeros_like(h).scatter_reduce(0, {}.unsqueeze(1).expand_as(e), e, 'amax', "
        "include_self=False)",
        idx);
    switch (aggregation) {
        case Aggregation::sum:
            return sum;
        case Aggregation::mean:
            return fmt::format("{} * {}", sum, inv_degree);
        case Aggregation::max:
            return max;
        case Aggregation::sum_max:
            return fmt::format("torch.cat([{}, {}], 1)", sum, max);
    }
    return sum;
}

std::string forward_method(const InteractionNetwork& model) {
    const auto& c = model.config();
    const Aggregation agg = model.aggregation();
    std::string f =
        "def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:\n"
        "    s = edge_index[0]\n"
        "    r = edge_index[1]\n"
        "    h = self.node_encoder(x)\n";
    f += model.edge_feature_dim() > 0
             ? "    e = self.edge_encoder(torch.cat([h[s], h[r], x[r] - x[s]], 1))\n"
             : "    e = self.edge_encoder(torch.cat([h[s], h[r]], 1))\n";
    if (agg == Aggregation::mean) {
        f +=
            "    ones = torch.ones_like(e[:, 0:1])\n"
            "    inv_in = 1.0 / torch.zeros_like(h[:, 0:1]).index_add_(0, r, ones).clamp_min(1.0)\n"
            "    inv_out = 1.0 / torch.zeros_like(h[:, 0:1]).index_add_(0, s, "
            "ones).clamp_min(1.0)\n";
    } else {
        f += "    inv_in = torch.ones_like(h[:, 0:1])\n    inv_out = inv_in\n";
    }
    f += fmt::format(
        "    for _ in range({}):\n"
        "        e = e + self.edge_net(torch.cat([h[s], h[r], e], 1))\n"
        "        a_in = {}\n"
        "        a_out = {}\n"
        "        h = h + self.node_net(torch.cat([h, a_in, a_out], 1))\n",
        c.n_graph_iters, aggregate_expr(agg, "r", "inv_in"), aggregate_expr(agg, "s", "inv_out"));
    f += "    return self.edge_classifier(torch.cat([h[s], h[r], e], 1)).squeeze(1)\n";
    return f;
}

/// Resolves `hepgnn.<op>` in generated source to the custom ops of models/ops/torch_library.cpp
/// (the native resolver knows `torch` only); the saved module names them ops.hepgnn.<op>.
struct HepgnnOpsResolver : torch::jit::NativeResolver {
    std::shared_ptr<torch::jit::SugaredValue> resolveValue(
        const std::string& name, torch::jit::GraphFunction& m,
        const torch::jit::SourceRange& loc) override {
        if (name == "hepgnn") return std::make_shared<torch::jit::BuiltinModule>("hepgnn");
        return torch::jit::NativeResolver::resolveValue(name, m, loc);
    }
};

/// The forward as one call of the custom op hepgnn::interaction_network
/// (models/ops/torch_library.cpp) on the parameters in the model's order.
std::string fused_forward_method(InteractionNetwork& model) {
    const auto& c = model.config();
    std::string params;
    for (const auto& p : model.named_parameters())
        params += (params.empty() ? "self." : ", self.") + attribute_name(p.key());
    return fmt::format(
        "def forward(self, x: Tensor, edge_index: Tensor) -> Tensor:\n"
        "    return hepgnn.interaction_network(x, edge_index, [{}], {}, {}, '{}', "
        "'{}', {}, {})\n",
        params, c.n_graph_iters, c.n_mlp_layers, c.aggregation, c.activation,
        c.layer_norm ? "True" : "False", model.edge_feature_dim() > 0 ? "True" : "False");
}

}  // namespace

void export_torchscript(GnnModel& model, const std::filesystem::path& out,
                        const std::map<std::string, std::string>& metadata, TorchScriptOps ops) {
    auto* in = dynamic_cast<InteractionNetwork*>(&model);
    HEPGNN_CHECK(in != nullptr,
                 "export: model '{}' cannot be exported yet; TorchScript and ONNX export support "
                 "interaction_network",
                 model.config().name);
    torch::NoGradGuard no_grad;
    model.to(torch::kCPU);
    model.eval();

    torch::jit::Module module("HepgnnInteractionNetwork");
    for (const auto& p : model.named_parameters())
        module.register_parameter(attribute_name(p.key()), p.value().detach().clone(), false);
    module.register_attribute("hepgnn_model", c10::StringType::get(),
                              nlohmann::json{{"name", in->config().name},
                                             {"hidden_dim", in->config().hidden_dim},
                                             {"n_graph_iters", in->config().n_graph_iters},
                                             {"n_mlp_layers", in->config().n_mlp_layers},
                                             {"aggregation", in->config().aggregation},
                                             {"activation", in->config().activation},
                                             {"layer_norm", in->config().layer_norm},
                                             {"edge_features", in->config().edge_features}}
                                  .dump());
    const std::string act = in->config().activation;
    if (ops == TorchScriptOps::fused) {
        module.define(fused_forward_method(*in), std::make_shared<HepgnnOpsResolver>());
    } else {
        module.define(mlp_method("node_encoder", in->node_encoder(), act) +
                      mlp_method("edge_encoder", in->edge_encoder(), act) +
                      mlp_method("edge_net", in->edge_net(), act) +
                      mlp_method("node_net", in->node_net(), act) +
                      mlp_method("edge_classifier", in->edge_classifier(), act) +
                      forward_method(*in));
    }

    // Self-check on a random graph where many edges share a receiver.
    torch::manual_seed(0);
    const int64_t n = 40, e = 300;
    auto x = torch::randn({n, in->config().input_dim});
    auto edge_index = torch::randint(0, n, {2, e}, torch::kInt64);
    edge_index[1] = torch::randint(0, n / 4, {e}, torch::kInt64);
    const auto want = model.forward(GraphInput::make(x, edge_index[0], edge_index[1]));
    const auto got = module.forward({x, edge_index}).toTensor();
    const double diff = (want - got).abs().max().item<double>();
    HEPGNN_INTERNAL_CHECK(diff <= 1e-4,
                          "export: the TorchScript module differs from the model "
                          "by {} on a test graph",
                          diff);
    const torch::jit::ExtraFilesMap extra(metadata.begin(), metadata.end());
    std::ostringstream bytes;
    module.save(bytes, extra);
    write_file_atomically(out, bytes.str(), "TorchScript model");
}

}  // namespace hepgnn::models
