// The process's heap policy for training (DESIGN §4: fresh large allocations
// cost page faults; a 200000x64x64 matmul runs 10x faster into a reused
// buffer). Applied once by main() for commands that run models.
//
// Note [Allocator policy]
// ~~~~~~~~~~~~~~~~~~~~~~~
// Training repeats steps of similar size, so by default every allocation is
// served from the heap (no mmap) and freed memory is kept: each step reuses
// pages that are already mapped. glibc's malloc also uses transparent huge
// pages (GLIBC_TUNABLES=glibc.malloc.hugetlb=1, glibc >= 2.35), so the pages
// it does map cost one fault per 2 MB. Keeping everything has a price for
// huge graphs: the heap's free lists fragment, and a 150k-node / 1.35M-edge
// step peaked at 8.6 GB with it against 6.1 GB with glibc's own mmap of large
// blocks (which returns them on free, but faults every page in again: 42%
// slower). Runs that turn on activation checkpointing are the ones with huge
// graphs, so torch's large blocks go to a caching allocator instead (Note
// [CPU caching allocator] in models/cpu_caching_allocator.hpp), which keeps
// the mapped memory below the peak of the live memory.
// HEPGNN_ALLOCATOR=heap|cache|lean|system forces one (cache: the caching
// allocator for any run; lean: glibc's mmap of large blocks; system: glibc
// untouched).
#pragma once

namespace hepgnn {

/// Applies the policy chosen by HEPGNN_ALLOCATOR (default: heap, with huge
/// pages). Huge pages need a re-exec of the program with GLIBC_TUNABLES set
/// (the tunable is read only at start-up), so call it before starting
/// threads, MPI or anything else that must not happen twice. Returns false if
/// glibc refused a setting or the re-exec failed (the run goes on untuned).
bool apply_training_allocator_policy(char** argv = nullptr);

/// Whether torch's large blocks should go to the caching allocator: true for
/// runs on huge graphs (`big_graphs`: activation checkpointing is on) unless
/// HEPGNN_ALLOCATOR forces another policy, and for HEPGNN_ALLOCATOR=cache.
bool wants_caching_allocator(bool big_graphs);

}  // namespace hepgnn
