// Message-passing kernels on raw contiguous row-major buffers: segment reductions over edges
// grouped by node (Note [Segment sums] in models/segment_ops.hpp; parallel over nodes with
// at::parallel_for, deterministic for any number of threads) and the gather of node parts onto
// edges (single-threaded, run per chunk by its callers). They serve models' differentiable ops,
// the fused residual updates and the inference forward of
// models/ops/interaction_network_inference.hpp.
#pragma once

#include <cstdint>

namespace hepgnn::ops {

/// Rows per at::parallel_for task so that one task touches about 32k elements.
int64_t grain_for(int64_t rows, int64_t elements);

/// Stable counting sort of the edges by node: afterwards node n owns the edges
/// perm[rowptr[n] : rowptr[n + 1]], ascending. rowptr has n_nodes + 1 entries.
/// Returns the first edge whose node lies outside [0, n_nodes), or -1 (then
/// perm and rowptr are unspecified).
int64_t group_edges_by_node(const int64_t* node_of_edge, int64_t n_edges, int64_t n_nodes,
                            int64_t* perm, int64_t* rowptr);

/// out[i] = (a[senders[i]] + b[receivers[i]]) + c[i] for i < rows, rows of `width` values: the
/// node parts of an edge product (interaction network). c == nullptr: no c; c may be out (in
/// place: each element is read before it is written). The rows of edges a few ahead are
/// prefetched. Single-threaded: callers run it per chunk or per task.
void gather_pair_add(const float* a, const float* b, const int64_t* senders,
                     const int64_t* receivers, const float* c, int64_t rows, int64_t width,
                     float* out);
void gather_pair_add(const double* a, const double* b, const int64_t* senders,
                     const int64_t* receivers, const double* c, int64_t rows, int64_t width,
                     double* out);

/// out[n] = sum of values[e] over the edges e of node n, in ascending edge order;
/// values [E, dim], out [n_nodes, dim]; nodes without edges get 0.
template <typename T>
void segment_sum(const T* values, const int64_t* perm, const int64_t* rowptr, int64_t n_nodes,
                 int64_t dim, T* out);

/// out[n, d] = max of values[e, d] over the edges of node n (the first edge attaining it
/// goes to arg[n, d]; a NaN wins); nodes without edges get 0 (arg -1). arg may be null.
template <typename T>
void segment_max(const T* values, const int64_t* perm, const int64_t* rowptr, int64_t n_nodes,
                 int64_t dim, T* out, int64_t* arg);

}  // namespace hepgnn::ops
