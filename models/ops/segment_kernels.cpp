#include "models/ops/segment_kernels.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "models/ops/row_math.hpp"
#include "models/ops/vector_clones.hpp"

namespace hepgnn::ops {
namespace {

// Rows of the model's width (H = 64 floats, four cache lines) take a specialised path: the row
// sum stays in registers, and the rows a few edges ahead are prefetched, since the edges of a
// node lie anywhere in `values` (and in big graphs far outside the caches).
constexpr int64_t kWide = 64;

HEPGNN_VECTOR_CLONES
void segment_sum_rows_wide(const float* values, const int64_t* perm, const int64_t* rowptr,
                           int64_t begin, int64_t end, float* out) {
    const int64_t last = rowptr[end];
    for (int64_t n = begin; n < end; ++n) {
        float acc[kWide] = {};
        for (int64_t k = rowptr[n]; k < rowptr[n + 1]; ++k) {
            if (k + kPrefetchAhead < last)
                prefetch_row(values + perm[k + kPrefetchAhead] * kWide, kWide);
            const float* __restrict v = values + perm[k] * kWide;
            for (int64_t d = 0; d < kWide; ++d) acc[d] += v[d];
        }
        std::memcpy(out + n * kWide, acc, sizeof(acc));
    }
}

// Width W > 0 is fixed at compile time (the model's 64: the inner loop unrolls into whole
// vectors), W == 0 takes the width at run time.
template <int64_t W, typename T>
__attribute__((always_inline)) inline void gather_pair_rows(const T* a, const T* b,
                                                            const int64_t* senders,
                                                            const int64_t* receivers, const T* c,
                                                            int64_t rows, int64_t run_width,
                                                            T* out) {
    const int64_t width = W > 0 ? W : run_width;
    for (int64_t i = 0; i < rows; ++i) {
        if (i + kPrefetchAhead < rows) {
            prefetch_row(a + senders[i + kPrefetchAhead] * width, width);
            prefetch_row(b + receivers[i + kPrefetchAhead] * width, width);
        }
        const T* __restrict ar = a + senders[i] * width;
        const T* __restrict br = b + receivers[i] * width;
        T* o = out + i * width;
        if (c) {
            const T* cr = c + i * width;
            HEPGNN_IVDEP  // cr may be o: same element only
                for (int64_t d = 0; d < width; ++d) o[d] = (ar[d] + br[d]) + cr[d];
        } else {
            for (int64_t d = 0; d < width; ++d) o[d] = ar[d] + br[d];
        }
    }
}

HEPGNN_VECTOR_CLONES
void gather_pair_add_float(const float* a, const float* b, const int64_t* senders,
                           const int64_t* receivers, const float* c, int64_t rows, int64_t width,
                           float* out) {
    if (width == kWide) return gather_pair_rows<kWide>(a, b, senders, receivers, c, rows, 0, out);
    gather_pair_rows<0>(a, b, senders, receivers, c, rows, width, out);
}

HEPGNN_VECTOR_CLONES
void gather_pair_add_double(const double* a, const double* b, const int64_t* senders,
                            const int64_t* receivers, const double* c, int64_t rows, int64_t width,
                            double* out) {
    gather_pair_rows<0>(a, b, senders, receivers, c, rows, width, out);
}

}  // namespace

void gather_pair_add(const float* a, const float* b, const int64_t* senders,
                     const int64_t* receivers, const float* c, int64_t rows, int64_t width,
                     float* out) {
    gather_pair_add_float(a, b, senders, receivers, c, rows, width, out);
}

void gather_pair_add(const double* a, const double* b, const int64_t* senders,
                     const int64_t* receivers, const double* c, int64_t rows, int64_t width,
                     double* out) {
    gather_pair_add_double(a, b, senders, receivers, c, rows, width, out);
}

int64_t grain_for(int64_t rows, int64_t elements) {
    const int64_t per_row = std::max<int64_t>(1, elements / std::max<int64_t>(1, rows));
    return std::max<int64_t>(1, 32768 / per_row);
}

// Pass 1 counts the edges of each node, an exclusive prefix sum turns the counts into row
// pointers, and pass 2 drops each edge into the next free slot of its node. Pass 2 visits the
// edges in ascending order, so the edges of one node stay ascending (a stable sort): the
// summation order of every segment is fixed by the graph alone.
int64_t group_edges_by_node(const int64_t* node, int64_t n_edges, int64_t n_nodes, int64_t* perm,
                            int64_t* rowptr) {
    std::fill(rowptr, rowptr + n_nodes + 1, int64_t(0));
    for (int64_t e = 0; e < n_edges; ++e) {
        const int64_t n = node[e];
        if (n < 0 || n >= n_nodes) return e;
        ++rowptr[n + 1];
    }
    for (int64_t n = 0; n < n_nodes; ++n) rowptr[n + 1] += rowptr[n];
    std::vector<int64_t> next(rowptr, rowptr + n_nodes);
    for (int64_t e = 0; e < n_edges; ++e) perm[next[node[e]]++] = e;
    return -1;
}

template <typename T>
void segment_sum(const T* values, const int64_t* perm, const int64_t* rowptr, int64_t n_nodes,
                 int64_t dim, T* out) {
    const int64_t work = (rowptr[n_nodes] + n_nodes) * dim;
    at::parallel_for(0, n_nodes, grain_for(n_nodes, work), [&](int64_t begin, int64_t end) {
        if constexpr (std::is_same_v<T, float>) {
            if (dim == kWide) return segment_sum_rows_wide(values, perm, rowptr, begin, end, out);
        }
        for (int64_t n = begin; n < end; ++n) {
            T* __restrict o = out + n * dim;
            std::fill(o, o + dim, T(0));
            for (int64_t k = rowptr[n]; k < rowptr[n + 1]; ++k) {
                const T* __restrict v = values + perm[k] * dim;
                for (int64_t d = 0; d < dim; ++d) o[d] += v[d];
            }
        }
    });
}

template <typename T>
void segment_max(const T* values, const int64_t* perm, const int64_t* rowptr, int64_t n_nodes,
                 int64_t dim, T* out, int64_t* arg) {
    const int64_t work = (rowptr[n_nodes] + n_nodes) * dim;
    at::parallel_for(0, n_nodes, grain_for(n_nodes, work), [&](int64_t begin, int64_t end) {
        for (int64_t n = begin; n < end; ++n) {
            T* __restrict o = out + n * dim;
            int64_t* a = arg ? arg + n * dim : nullptr;
            const int64_t first = rowptr[n], last = rowptr[n + 1];
            if (first == last) {
                std::fill(o, o + dim, T(0));
                if (a) std::fill(a, a + dim, int64_t(-1));
                continue;
            }
            const T* v0 = values + perm[first] * dim;
            std::copy(v0, v0 + dim, o);
            if (a) std::fill(a, a + dim, perm[first]);
            for (int64_t k = first + 1; k < last; ++k) {
                const int64_t edge = perm[k];
                const T* __restrict v = values + edge * dim;
                for (int64_t d = 0; d < dim; ++d) {
                    // Strictly greater keeps the first maximum; a NaN wins and stays.
                    if (v[d] > o[d] || (std::isnan(v[d]) && !std::isnan(o[d]))) {
                        o[d] = v[d];
                        if (a) a[d] = edge;
                    }
                }
            }
        }
    });
}

template void segment_sum<float>(const float*, const int64_t*, const int64_t*, int64_t, int64_t,
                                 float*);
template void segment_sum<double>(const double*, const int64_t*, const int64_t*, int64_t, int64_t,
                                  double*);
template void segment_max<float>(const float*, const int64_t*, const int64_t*, int64_t, int64_t,
                                 float*, int64_t*);
template void segment_max<double>(const double*, const int64_t*, const int64_t*, int64_t, int64_t,
                                  double*, int64_t*);

}  // namespace hepgnn::ops
