#include "core/allocator_policy.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace hepgnn {
namespace {

std::string chosen_policy() {
    const char* env = std::getenv("HEPGNN_ALLOCATOR");
    return env ? env : "auto";
}

bool use_heap_policy() {
    bool ok = true;
    // glibc caps M_MMAP_THRESHOLD at 32 MB, and one E x H activation of a big
    // graph is larger; turning mmap off entirely is what keeps them on the heap.
    ok &= mallopt(M_MMAP_MAX, 0) == 1;
    ok &= mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;  // return memory only above 1 GB free
    ok &= mallopt(M_TOP_PAD, 256 << 20) == 1;       // grow the heap in 256 MB steps
    return ok;
}

/// Re-executes the program with glibc.malloc.hugetlb=1 unless it is set.
bool ensure_huge_pages(char** argv) {
    constexpr const char* kTunable = "glibc.malloc.hugetlb=1";
    const char* current = std::getenv("GLIBC_TUNABLES");
    const std::string tunables = current ? current : "";
    if (tunables.find("glibc.malloc.hugetlb") != std::string::npos) return true;  // in effect
    if (argv == nullptr) return false;
    const std::string value = tunables.empty() ? kTunable : tunables + ":" + kTunable;
    setenv("GLIBC_TUNABLES", value.c_str(), 1);
    execv("/proc/self/exe", argv);  // returns only on failure
    return false;
}

}  // namespace

bool apply_training_allocator_policy(char** argv) {
    const std::string policy = chosen_policy();
    if (policy == "system") return true;
    const bool huge = ensure_huge_pages(argv);
    if (policy == "lean") {
        // glibc's defaults: large blocks by mmap, memory above 128 KB free at the top trimmed.
        mallopt(M_MMAP_MAX, 65536);
        mallopt(M_TRIM_THRESHOLD, 128 * 1024);
        mallopt(M_TOP_PAD, 0);
        return huge;
    }
    return use_heap_policy() && huge;
}

bool wants_caching_allocator(bool big_graphs) {
    const std::string policy = chosen_policy();
    return policy == "cache" || (policy == "auto" && big_graphs);
}

}  // namespace hepgnn
