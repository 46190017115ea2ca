// Note [Fused row epilogue]: the panel products with their start rows, bias, layer norm, ReLU
// and residual add in registers, against the same steps in torch ops (float64), for every tail
// of the 6-row blocks, with and without a product, start rows and accumulation.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <limits>
#include <vector>

#include "models/ops/panel_matmul.hpp"

namespace hepgnn::models {
namespace {

constexpr int64_t kWidth = 64;

struct Case {
    int64_t rows, k, lda;
    bool start, accumulate;
};

/// Inputs of one fused product; `a` is [rows, lda] with the product's k columns first.
struct Inputs {
    torch::Tensor a, b, bias, gamma, beta, node_a, node_b, ia, ib, c0;

    explicit Inputs(const Case& t, uint64_t seed) {
        torch::manual_seed(seed);
        const int64_t nodes = 50;
        a = torch::randn({t.rows, std::max<int64_t>(t.lda, 1)});
        b = torch::randn({std::max<int64_t>(t.k, 1), kWidth}) / 8;
        bias = torch::randn({kWidth});
        gamma = torch::rand({kWidth}) + 0.5;
        beta = torch::randn({kWidth}) / 4;
        node_a = torch::randn({nodes, kWidth});
        node_b = torch::randn({nodes, kWidth});
        ia = torch::randint(nodes, {t.rows}, torch::kLong);
        ib = torch::randint(nodes, {t.rows}, torch::kLong);
        c0 = torch::randn({t.rows, kWidth});
    }

    ops::LayerNormReluRows epilogue(const Case& t) const {
        ops::LayerNormReluRows ep;
        ep.bias = bias.data_ptr<float>();
        ep.gamma = gamma.data_ptr<float>();
        ep.beta = beta.data_ptr<float>();
        if (t.start) {
            ep.start_a = node_a.data_ptr<float>();
            ep.start_b = node_b.data_ptr<float>();
            ep.ia = ia.data_ptr<int64_t>();
            ep.ib = ib.data_ptr<int64_t>();
        }
        ep.accumulate = t.accumulate;
        return ep;
    }

    /// The same steps in float64 torch ops; `product` replaces a b where given (bfloat16).
    torch::Tensor reference(const Case& t, torch::Tensor product = {}) const {
        const auto d = torch::kFloat64;
        auto z = torch::zeros({t.rows, kWidth}, d);
        if (t.k > 0)
            z += product.defined()
                     ? product
                     : torch::mm(a.narrow(1, 0, t.k).to(d), b.narrow(0, 0, t.k).to(d));
        if (t.start) z += node_a.index_select(0, ia).to(d) + node_b.index_select(0, ib).to(d);
        const auto y =
            torch::relu(torch::layer_norm(z + bias.to(d), {kWidth}, gamma.to(d), beta.to(d), 1e-5));
        return t.accumulate ? c0.to(d) + y : y;
    }
};

std::vector<Case> cases() {
    std::vector<Case> out;
    for (const int64_t rows : {1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 256})
        out.push_back({rows, 64, 64, rows % 2 == 1, rows % 3 == 0});
    out.push_back({40, 0, 0, true, false});      // no product: the start rows alone
    out.push_back({40, 3, 3, true, false});      // the edge encoder's features
    out.push_back({40, 64, 192, false, true});   // a row stride beyond k
    out.push_back({40, 192, 192, false, true});  // the node net's input
    return out;
}

TEST(FusedRowEpilogue, Float32EqualsTheStepsOneByOne) {
    if (!ops::panel_matmul_supported(kWidth))
        return;  // no AVX-512: the inference forward never calls these kernels
    uint64_t seed = 0;
    for (const Case& t : cases()) {
        const Inputs in(t, ++seed);
        auto c = in.c0.clone();
        ops::panel_matmul_layer_norm_relu(in.a.data_ptr<float>(), t.lda, t.rows, t.k,
                                          in.b.data_ptr<float>(), c.data_ptr<float>(),
                                          in.epilogue(t));
        const double err = (c.to(torch::kFloat64) - in.reference(t)).abs().max().item<double>();
        EXPECT_LT(err, 2e-5) << "rows " << t.rows << " k " << t.k << " lda " << t.lda;
    }
}

TEST(FusedRowEpilogue, ANaNInARowStaysInThatRowOnly) {
    if (!ops::panel_matmul_supported(kWidth))
        return;  // no AVX-512: the inference forward never calls these kernels
    const Case t{13, 64, 64, true, false};
    Inputs in(t, 99);
    in.a[7][5] = std::numeric_limits<float>::quiet_NaN();
    auto c = in.c0.clone();
    ops::panel_matmul_layer_norm_relu(in.a.data_ptr<float>(), t.lda, t.rows, t.k,
                                      in.b.data_ptr<float>(), c.data_ptr<float>(), in.epilogue(t));
    EXPECT_TRUE(torch::isnan(c[7]).all().item<bool>());  // ReLU keeps a NaN, as torch::relu
    EXPECT_FALSE(torch::isnan(c.narrow(0, 0, 7)).any().item<bool>());
    EXPECT_FALSE(torch::isnan(c.narrow(0, 8, 5)).any().item<bool>());
}

TEST(FusedRowEpilogue, Bfloat16EqualsTheStepsOnTheRoundedInputs) {
    if (!ops::cpu_has_avx512_bf16()) {
        EXPECT_FALSE(ops::bf16_panel_supported(64, kWidth));  // so --bf16 is refused instead
        return;
    }
    uint64_t seed = 100;
    for (Case t : cases()) {
        if (t.k == 0 || t.k % 2) continue;  // the bfloat16 kernel takes pairs of rows of b
        t.lda = t.k;                        // and contiguous rows of a
        const Inputs in(t, ++seed);
        const auto a = in.a.narrow(1, 0, t.k).contiguous();
        std::vector<uint16_t> packed(static_cast<size_t>(ops::bf16_packed_size(t.k, kWidth)));
        ops::pack_bf16_pairs(in.b.data_ptr<float>(), t.k, kWidth, packed.data());
        auto c = in.c0.clone();
        ops::panel_matmul_bf16_layer_norm_relu(a.data_ptr<float>(), t.rows, t.k, packed.data(),
                                               c.data_ptr<float>(), in.epilogue(t));
        const auto d = torch::kFloat64;
        const auto rounded =
            torch::mm(a.to(torch::kBFloat16).to(d), in.b.to(torch::kBFloat16).to(d));
        const double err = (c.to(d) - in.reference(t, rounded)).abs().max().item<double>();
        EXPECT_LT(err, 2e-5) << "rows " << t.rows << " k " << t.k;
    }
}

}  // namespace
}  // namespace hepgnn::models
