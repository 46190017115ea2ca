// The process's heap policy for training (DESIGN §4: fresh large allocations
// cost page faults; a 200000x64x64 matmul runs 10x faster into a reused
// buffer). Applied once by main() for commands that run models.
//
// Note [Allocator policy]
// ~~~~~~~~~~~~~~~~~~~~~~~
// Two ways to stop paying a 4 KB page fault per page of every fresh tensor:
//  * hugepages (default): glibc's malloc with transparent huge pages
//    (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, glibc >= 2.35): a fault maps 2 MB,
//    and freed memory still goes back to the OS. Measured on a 150k-node /
//    1.35M-edge graph: 64 s per step and 6.2 GB peak, against 219 s with plain
//    glibc and 54 s but 9.7 GB with `heap` (its free lists fragment).
//  * heap: no mmap and no trimming, so every step reuses already-faulted
//    pages; the fastest for small graphs, but the resident set keeps every
//    hole it ever had.
// HEPGNN_ALLOCATOR=hugepages|heap|system picks one (system: glibc untouched).
#pragma once

namespace hepgnn {

/// Applies the policy chosen by HEPGNN_ALLOCATOR (Note [Allocator policy]).
/// For hugepages this re-executes the program with GLIBC_TUNABLES set (the
/// tunable is read only at start-up), so call it before starting threads,
/// MPI or anything else that must not happen twice. Returns false if glibc
/// refused a setting or the re-exec failed (the run goes on untuned).
bool apply_training_allocator_policy(char** argv = nullptr);

}  // namespace hepgnn
