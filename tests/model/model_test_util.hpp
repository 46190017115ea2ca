// Helpers for the model tests: random graphs, a central-difference gradient checker (libtorch's
// C++ API has no gradcheck), tensor comparisons.
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <string>
#include <vector>

#include "models/graph_input.hpp"

namespace hepgnn::models::testing {

/// A random graph whose receivers crowd onto a few "hub" nodes (many edges share a receiver),
/// with the last `n_isolated` nodes touching no edge (empty segments).
inline GraphInput random_graph(int64_t n_nodes, int64_t n_edges, uint64_t seed,
                               int64_t n_features = 3, torch::Dtype dtype = torch::kFloat32,
                               int64_t n_isolated = 3) {
    torch::manual_seed(seed);
    const int64_t n_used = n_nodes - n_isolated;
    const int64_t n_hubs = std::max<int64_t>(1, n_used / 20);
    auto senders = torch::randint(0, n_used, {n_edges}, torch::kInt64);
    auto hub = torch::randint(0, n_hubs, {n_edges}, torch::kInt64);
    auto anywhere = torch::randint(0, n_used, {n_edges}, torch::kInt64);
    auto receivers = torch::where(torch::rand({n_edges}) < 0.6, hub, anywhere);
    auto x = torch::randn({n_nodes, n_features}, dtype);
    return GraphInput::make(x, senders, receivers);
}

/// max |a - b| / max(1, max |b|): an absolute error for values of order one, a relative one
/// for large values (gradients summed over many edges).
inline double scaled_error(const torch::Tensor& a, const torch::Tensor& b) {
    const double diff = (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>();
    const double scale = std::max(1.0, b.to(torch::kFloat64).abs().max().item<double>());
    return diff / scale;
}

inline bool bit_identical(const torch::Tensor& a, const torch::Tensor& b) {
    return a.sizes() == b.sizes() && a.scalar_type() == b.scalar_type() &&
           std::memcmp(a.contiguous().data_ptr(), b.contiguous().data_ptr(), a.nbytes()) == 0;
}

/// Compares the autograd gradient of L = sum_i <f()_i, w_i> (random fixed w_i) with respect to
/// every tensor in `wrt` (float64 leaves, e.g. inputs or parameters) against central
/// differences. Reports every mismatching element with a gtest failure.
inline void expect_gradients_match_finite_differences(
    const std::function<std::vector<torch::Tensor>()>& f, const std::vector<torch::Tensor>& wrt,
    double eps = 1e-6, double atol = 1e-6, double rtol = 1e-5) {
    std::vector<torch::Tensor> weights;
    for (const auto& out : f()) weights.push_back(torch::randn_like(out));
    auto loss = [&] {
        auto outs = f();
        torch::Tensor l = torch::zeros({}, torch::kFloat64);
        for (size_t i = 0; i < outs.size(); ++i) l = l + (outs[i] * weights[i]).sum();
        return l;
    };
    const auto analytic = torch::autograd::grad({loss()}, wrt, {}, false, false, true);

    torch::NoGradGuard no_grad;
    int failures = 0;
    for (size_t t = 0; t < wrt.size(); ++t) {
        ASSERT_EQ(wrt[t].scalar_type(), torch::kFloat64) << "gradcheck needs float64 tensors";
        ASSERT_TRUE(wrt[t].is_contiguous());
        double* p = wrt[t].data_ptr<double>();
        const auto a = analytic[t].defined() ? analytic[t].contiguous()
                                             : torch::zeros_like(wrt[t]).contiguous();
        const double* ga = a.data_ptr<double>();
        for (int64_t i = 0; i < wrt[t].numel(); ++i) {
            const double saved = p[i];
            p[i] = saved + eps;
            const double plus = loss().item<double>();
            p[i] = saved - eps;
            const double minus = loss().item<double>();
            p[i] = saved;
            const double numeric = (plus - minus) / (2 * eps);
            if (std::abs(numeric - ga[i]) > atol + rtol * std::abs(numeric) && failures++ < 10) {
                ADD_FAILURE() << "tensor " << t << " element " << i << ": autograd " << ga[i]
                              << ", finite differences " << numeric;
            }
        }
    }
    EXPECT_EQ(failures, 0);
}

}  // namespace hepgnn::models::testing
