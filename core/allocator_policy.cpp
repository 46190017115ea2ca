#include "core/allocator_policy.hpp"

#include <malloc.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace hepgnn {
namespace {

bool use_heap_policy() {
    bool ok = true;
    // glibc caps M_MMAP_THRESHOLD at 32 MB, and one E x H activation of a big
    // graph is larger; turning mmap off entirely is what keeps them on the heap.
    ok &= mallopt(M_MMAP_MAX, 0) == 1;
    ok &= mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1;  // return memory only above 1 GB free
    ok &= mallopt(M_TOP_PAD, 256 << 20) == 1;       // grow the heap in 256 MB steps
    return ok;
}

bool use_huge_pages(char** argv) {
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
    const char* env = std::getenv("HEPGNN_ALLOCATOR");
    const std::string choice = env ? env : "hugepages";
    if (choice == "system") return true;
    if (choice == "heap") return use_heap_policy();
    return use_huge_pages(argv);
}

}  // namespace hepgnn
