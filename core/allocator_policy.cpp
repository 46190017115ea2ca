#include "core/allocator_policy.hpp"

#include <malloc.h>

namespace hepgnn {

bool apply_training_allocator_policy() {
    bool ok = true;
    // glibc caps M_MMAP_THRESHOLD at 32 MB, and one E x H activation of a big
    // graph is larger; turning mmap off entirely is what keeps them on the heap.
    ok &= mallopt(M_MMAP_MAX, 0) == 1;
    ok &= mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;  // return memory only above 1 GB free
    ok &= mallopt(M_TOP_PAD, 256 << 20) == 1;       // grow the heap in 256 MB steps
    return ok;
}

}  // namespace hepgnn
