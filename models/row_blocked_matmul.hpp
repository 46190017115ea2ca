// x W^T for tall x (many rows, few columns) as one autograd operation, computed over fixed
// blocks of rows.
//
// Note [Row-blocked products]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~
// The products of a message-passing step are tall and thin: [E, 64] x [64, 64]. Handed whole to
// a threaded BLAS, each one is a parallel region of its own, in which the BLAS packs both
// operands, zeroes the output in a separate pass and joins its threads; on two cores that
// costs more than the threads win (measured: the step gets no faster from 1 to 2 threads).
// Here the rows are cut into fixed blocks, each block is one single-threaded BLAS call, and
// blocks are shared between threads by at::parallel_for:
//   forward   y[b] = x[b] W^T          backward  dx[b] = dy[b] W
//   weight    dW   = sum over blocks b of dy[b]^T x[b], added in block order
// Blocks do not depend on the thread count, so the weight gradient is bit-identical for any
// number of threads (as Note [Segment sums]). Other devices use torch::matmul.
#pragma once

#include <torch/types.h>

namespace hepgnn::models {

/// x [R, K] times weight [O, K] transposed: [R, O]. No bias (the fused LayerNorm adds it).
/// Differentiable in x and weight (first order).
torch::Tensor row_blocked_matmul(const torch::Tensor& x, const torch::Tensor& weight);

}  // namespace hepgnn::models
