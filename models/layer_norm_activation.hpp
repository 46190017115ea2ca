// The [bias, LayerNorm, activation] tail of every MLP block as one autograd operation.
//
// Note [Fused layer norm]
// ~~~~~~~~~~~~~~~~~~~~~~~
// After the message-passing kernels, most of a training step that is not matrix products is
// the elementwise tail of each MLP block on [E, H] rows: torch adds the Linear's bias in its
// own pass, LayerNorm makes two more, the activation a fourth, and backward repeats the chain
// (activation backward, LayerNorm backward with two column reductions, the bias gradient as a
// third column sum), each pass reading and writing a whole [E, H] tensor. Here one row-parallel
// pass does the forward and one does the backward, with the row in cache:
//   forward   v = z + bias;  y = act(gamma * (v - mean(v)) * rstd(v) + beta)
//   backward  g = dy * act'; dgamma = sum g*xhat; dbeta = sum g; dz = rstd * (g*gamma
//             - mean(g*gamma) - xhat * mean(g*gamma*xhat)); dbias = sum dz
// Backward recomputes xhat from the saved z and per-row mean and rstd, and the activation's
// derivative from the recomputed pre-activation, so the operation keeps one [E, H] tensor, its
// input z, where the unfused chain keeps two (input and output; the output stays alive only
// when the next Linear keeps it: not after an MLP's last layer, 1 of 4 [E, H] tensors of a
// checkpointed edge-net recompute). The column
// sums run over fixed blocks of rows and add the block partials in block order, so gradients
// are bit-identical for any number of threads (as Note [Segment sums]).
//
// The CPU kernel handles float and double; other devices use torch's ops with the same result.
#pragma once

#include <torch/types.h>

#include "models/model_options.hpp"

namespace hepgnn::models {

/// act(LayerNorm(z + bias; gamma, beta, eps)) over the last dimension of z [R, H].
/// bias may be undefined (z already holds it). First-order gradients for all tensor inputs.
torch::Tensor layer_norm_activation(const torch::Tensor& z, const torch::Tensor& bias,
                                    const torch::Tensor& gamma, const torch::Tensor& beta,
                                    Activation activation, double eps);

/// act(x) with torch's op (relu | tanh | silu), out of place.
torch::Tensor apply_activation(Activation activation, const torch::Tensor& x);

/// The same function composed of torch ops (add, layer_norm, activation): the path off the
/// CPU, and the reference of the tests.
torch::Tensor layer_norm_activation_reference(const torch::Tensor& z, const torch::Tensor& bias,
                                              const torch::Tensor& gamma, const torch::Tensor& beta,
                                              Activation activation, double eps);

/// The row kernels of layer_norm_activation on raw contiguous buffers, for fused operations that
/// run a layer norm on a chunk of rows still in cache (models/fused_residual_update.cpp).
namespace layer_norm_rows {

/// Rows per block of backward's column sums: fixed, so the summation order is too.
constexpr int64_t kBlockRows = 256;

/// The operands of one call, contiguous: z, y, dy, dz [rows, h]; bias, gamma, beta [h];
/// mean, rstd [rows]; partial [blocks, 3, h] (dgamma, dbeta, dbias of each block).
template <typename T>
struct Operands {
    int64_t rows = 0, h = 0;
    const T *z = nullptr, *bias = nullptr, *gamma = nullptr, *beta = nullptr;
    T *y = nullptr, *mean = nullptr, *rstd = nullptr;
    const T* dy = nullptr;
    T *dz = nullptr, *partial = nullptr;
    int64_t blocks() const { return (rows + kBlockRows - 1) / kBlockRows; }
};

/// y, mean, rstd of rows [lo, hi) from z (one thread).
void forward(const Operands<float>& o, Activation activation, float eps, int64_t lo, int64_t hi);

/// dz and the block partials of blocks [block_lo, block_hi) from z, dy, mean, rstd (one thread;
/// y is not read). scratch: 3h floats.
void backward(const Operands<float>& o, Activation activation, int64_t block_lo, int64_t block_hi,
              float* scratch);

}  // namespace layer_norm_rows

}  // namespace hepgnn::models
