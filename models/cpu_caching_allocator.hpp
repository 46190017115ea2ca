// A caching allocator for torch's large CPU tensors, in the spirit of c10's CUDA caching
// allocator: freed blocks are kept and handed out again, so a step reuses pages it has already
// faulted in, while the memory held never exceeds the peak of what is live.
//
// Note [CPU caching allocator]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~~~
// A training step on a whole event allocates the same few sizes ([E, H], [N, H], ...) over and
// over, each hundreds of MB. glibc gives two bad choices (Note [Allocator policy]): keep freed
// memory in the heap (fast, but its free lists fragment: 8.6 GB for a 1.35M-edge step) or mmap
// every large block and return it on free (6.1 GB, but every allocation faults in and zeroes its
// pages again: 42% slower). This allocator serves blocks of >= 1 MB from its own mmapped,
// huge-page-advised regions and keeps freed ones in a free list by size:
//  - a request takes the smallest free block of at least its size and at most 1/8 more (rounded
//    to 2 MB), so the sizes a step repeats are reused exactly;
//  - a request no free block fits maps a new region, but first releases free blocks, oldest
//    first, as far as needed to keep the mapped bytes within the peak of the live bytes so far.
// So mapped <= peak live (block sizes, with the 1/8 slack of reused blocks): the memory bound of
// the mmap policy. Releasing only what the bound asks for keeps most blocks a step needs again
// (a first version released as much as each miss asked for, and missed 3 requests in 5).
// Small blocks go to torch's default allocator. Thread-safe (one mutex; a step allocates a few
// hundred large blocks).
#pragma once

#include <c10/core/Allocator.h>

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>

namespace hepgnn::models {

struct CachingAllocatorStats {
    size_t live_bytes = 0;  // held by tensors now (rounded block sizes)
    size_t free_bytes = 0;  // cached for reuse
    size_t peak_mapped_bytes = 0;
    size_t peak_live_bytes = 0;
    int64_t hits = 0;    // requests served from the cache
    int64_t misses = 0;  // requests that mapped a new region
    int64_t releases = 0;
};

/// The allocator itself; install_cpu_caching_allocator() makes one torch's CPU allocator, and
/// tests use their own.
class CpuCachingAllocator final : public c10::Allocator {
public:
    /// Blocks below min_cached_bytes go to `small` (torch's default CPU allocator).
    explicit CpuCachingAllocator(c10::Allocator* small, size_t min_cached_bytes = 1 << 20);
    ~CpuCachingAllocator() override;  // unmaps the free blocks; live ones must be gone
    CpuCachingAllocator(const CpuCachingAllocator&) = delete;
    CpuCachingAllocator& operator=(const CpuCachingAllocator&) = delete;

    c10::DataPtr allocate(size_t bytes) const override;
    CachingAllocatorStats stats() const;
    void release_free_blocks() const;

private:
    struct Block;
    static void free_block(void* block);
    void give_back(Block* block) const;
    /// Unmaps free blocks, oldest first, until `bytes` are released or none are left.
    void release_oldest(size_t bytes) const;

    c10::Allocator* small_;
    size_t min_cached_bytes_;
    mutable std::mutex mutex_;
    mutable std::multimap<size_t, Block*> free_;  // by block size
    mutable CachingAllocatorStats stats_;
    mutable uint64_t clock_ = 0;  // orders frees, for oldest-first release
};

/// Makes the caching allocator torch's CPU allocator for all later allocations (tensors
/// allocated before keep their own deleter). Idempotent.
void install_cpu_caching_allocator();

/// Whether install_cpu_caching_allocator() has run in this process.
bool cpu_caching_allocator_installed();

/// Figures of the caching allocator since it was installed (all zero if it is not).
CachingAllocatorStats cpu_caching_allocator_stats();

}  // namespace hepgnn::models
