// The row-blocked product x W^T (Note [Row-blocked products]) against torch::matmul and finite
// differences, on the AVX-512 panel path (float32, 64-wide outputs) and the BLAS path.
#include <ATen/Parallel.h>

#include "core/error.hpp"
#include "model_test_util.hpp"
#include "models/row_blocked_matmul.hpp"

namespace hepgnn::models {
namespace {

using testing::bit_identical;
using testing::expect_gradients_match_finite_differences;
using testing::scaled_error;

struct Case {
    int64_t rows, in, out;
};

std::string describe(const Case& c) {
    return std::to_string(c.rows) + " rows, " + std::to_string(c.in) + " -> " +
           std::to_string(c.out);
}

TEST(RowBlockedMatmul, MatchesTorchInForwardAndGradients) {
    // Row counts: below one 6-row tile, a tile plus a tail, one block, one block plus one row,
    // several blocks. Widths: the model's 64 -> 64, 3 -> 64 (encoder), 192 -> 64 (node net:
    // a 192-wide input gradient), 64 -> 1 (head), 64 -> 80 and 13 -> 40 (BLAS path).
    const std::vector<Case> cases = {{1, 64, 64},    {5, 64, 64},    {7, 64, 64},
                                     {2048, 64, 64}, {2049, 3, 64},  {5000, 192, 64},
                                     {5000, 64, 1},  {3000, 64, 80}, {100, 13, 40}};
    for (const Case& c : cases) {
        SCOPED_TRACE(describe(c));
        torch::manual_seed(c.rows + c.in);
        const auto x = torch::randn({c.rows, c.in}).requires_grad_(true);
        const auto w = (torch::randn({c.out, c.in}) / std::sqrt(double(c.in))).requires_grad_(true);
        const auto y = row_blocked_matmul(x, w);
        const auto ref = torch::matmul(x, w.t());
        EXPECT_LT(scaled_error(y, ref), 1e-5);

        const auto dy = torch::randn_like(ref);
        const auto g = torch::autograd::grad({y}, {x, w}, {dy});
        const auto g_ref = torch::autograd::grad({ref}, {x, w}, {dy});
        EXPECT_LT(scaled_error(g[0], g_ref[0]), 1e-5) << "dx";
        EXPECT_LT(scaled_error(g[1], g_ref[1]), 1e-5) << "dW";
    }
}

TEST(RowBlockedMatmul, TakesAStridedWeight) {
    // The split linear passes a column slice of a [64, 192] weight.
    torch::manual_seed(2);
    const auto full = torch::randn({64, 192}).requires_grad_(true);
    const auto x = torch::randn({3000, 64});
    const auto w = full.narrow(1, 128, 64);
    const auto dy = torch::randn({3000, 64});
    const auto y = row_blocked_matmul(x, w);
    EXPECT_LT(scaled_error(y, torch::matmul(x, w.t())), 1e-5);
    const auto g = torch::autograd::grad({y}, {full}, {dy})[0];
    const auto g_ref = torch::autograd::grad({torch::matmul(x, w.t())}, {full}, {dy})[0];
    EXPECT_LT(scaled_error(g, g_ref), 1e-5);
    EXPECT_EQ(g.narrow(1, 0, 128).abs().max().item<float>(), 0.0f);
}

TEST(RowBlockedMatmul, NoRowsGiveAnEmptyOutputAndZeroWeightGradient) {
    // A graph without edges: the edge products have no rows. Both the panel width and the thin
    // (classifier) width.
    for (const int64_t out : {64, 1}) {
        SCOPED_TRACE(out);
        const auto w = torch::randn({out, 64}).requires_grad_(true);
        const auto x = torch::randn({0, 64}).requires_grad_(true);
        const auto y = row_blocked_matmul(x, w);
        EXPECT_EQ(y.sizes(), (std::vector<int64_t>{0, out}));
        y.sum().backward();
        ASSERT_TRUE(w.grad().defined());
        EXPECT_EQ(w.grad().abs().max().item<float>(), 0.0f);
        EXPECT_EQ(x.grad().sizes(), (std::vector<int64_t>{0, 64}));
    }
}

TEST(RowBlockedMatmul, GradientsMatchFiniteDifferences) {
    // float64 runs the BLAS path of the same blocks (2100 rows: two blocks).
    torch::manual_seed(4);
    const auto x = torch::randn({2100, 3}, torch::kFloat64).requires_grad_(true);
    const auto w = torch::randn({2, 3}, torch::kFloat64).requires_grad_(true);
    const auto weights = torch::randn({2100, 2}, torch::kFloat64);
    expect_gradients_match_finite_differences(
        [&] { return std::vector<torch::Tensor>{row_blocked_matmul(x, w) * weights}; }, {x, w});
}

TEST(RowBlockedMatmul, SameBitsForOneAndTwoThreads) {
    torch::manual_seed(5);
    const auto x = torch::randn({9000, 64}).requires_grad_(true);
    const auto w = torch::randn({64, 64}).requires_grad_(true);
    const auto dy = torch::randn({9000, 64});
    auto run = [&](int threads) {
        at::set_num_threads(threads);
        const auto y = row_blocked_matmul(x, w);
        auto g = torch::autograd::grad({y}, {x, w}, {dy});
        return std::vector<torch::Tensor>{y, g[0], g[1]};
    };
    const int threads = at::get_num_threads();
    const auto one = run(1), two = run(2);
    at::set_num_threads(threads);
    for (size_t i = 0; i < one.size(); ++i) EXPECT_TRUE(bit_identical(one[i], two[i])) << i;
}

TEST(RowBlockedMatmul, RejectsMismatchedShapes) {
    const auto x = torch::randn({10, 4});
    EXPECT_THROW(row_blocked_matmul(x, torch::randn({3, 5})), hepgnn::Error);
    EXPECT_THROW(row_blocked_matmul(torch::randn({10}), torch::randn({3, 10})), hepgnn::Error);
}

}  // namespace
}  // namespace hepgnn::models
