// HEPGNN_VECTOR_CLONES: compile a CPU kernel for AVX-512 and AVX2 as well as the baseline
// x86-64 and pick one at load time (GCC function multi-versioning), as torch's own kernels do.
// Put it on a function that handles a whole range of rows, not one row: each call dispatches
// through a pointer.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HEPGNN_VECTOR_CLONES \
    __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define HEPGNN_VECTOR_CLONES
#endif

// HEPGNN_IVDEP: tells GCC a loop's iterations are independent (clang has no such pragma).
#if defined(__GNUC__) && !defined(__clang__)
#define HEPGNN_IVDEP _Pragma("GCC ivdep")
#else
#define HEPGNN_IVDEP
#endif
