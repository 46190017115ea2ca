#include "models/cpu_caching_allocator.hpp"

#include <c10/core/CPUAllocator.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace hepgnn::models {

namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kSmallGranule = size_t{64} << 10;

size_t round_up(size_t bytes, size_t granule) {
    return (bytes + granule - 1) / granule * granule;
}

/// Block sizes: 2 MB steps from 8 MB on (whole huge pages), 64 KB steps below.
size_t block_size(size_t bytes) {
    return round_up(bytes, bytes >= 4 * kHugePage ? kHugePage : kSmallGranule);
}

/// A fresh anonymous mapping of `bytes`, 2 MB aligned when it spans huge pages, so that
/// transparent huge pages can back it (the kernel's default here is madvise). nullptr on failure.
void* map_region(size_t bytes) {
    const bool huge = bytes % kHugePage == 0;
    const size_t span = huge ? bytes + kHugePage : bytes;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    if (!huge) return raw;
    const auto begin = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = round_up(begin, kHugePage);
    if (aligned > begin) munmap(raw, aligned - begin);
    const uintptr_t end = begin + span, used_end = aligned + bytes;
    if (end > used_end) munmap(reinterpret_cast<void*>(used_end), end - used_end);
    void* region = reinterpret_cast<void*>(aligned);
    madvise(region, bytes, MADV_HUGEPAGE);  // advice only: a refusal costs speed, not function
    return region;
}

}  // namespace

struct CpuCachingAllocator::Block {
    const CpuCachingAllocator* owner;
    void* data;
    size_t size;
    uint64_t freed_at = 0;
};

CpuCachingAllocator::CpuCachingAllocator(c10::Allocator* small, size_t min_cached_bytes)
    : small_(small), min_cached_bytes_(min_cached_bytes) {}

CpuCachingAllocator::~CpuCachingAllocator() {
    release_free_blocks();
}

c10::DataPtr CpuCachingAllocator::allocate(size_t bytes) const {
    if (bytes < min_cached_bytes_) return small_->allocate(bytes);
    const size_t size = block_size(bytes);
    std::lock_guard<std::mutex> lock(mutex_);
    Block* block = nullptr;
    const auto fit = free_.lower_bound(size);
    if (fit != free_.end() && fit->first <= size + size / 8) {
        block = fit->second;
        free_.erase(fit);
        stats_.free_bytes -= block->size;
        ++stats_.hits;
    } else {
        // Mapped bytes (live + free) stay within the peak of the live bytes (Note [CPU caching
        // allocator]).
        const size_t mapped = stats_.live_bytes + stats_.free_bytes;
        const size_t bound = std::max(stats_.peak_live_bytes, stats_.live_bytes + size);
        if (mapped + size > bound) release_oldest(mapped + size - bound);
        void* data = map_region(size);
        if (data == nullptr) {
            release_oldest(stats_.free_bytes);
            data = map_region(size);
        }
        TORCH_CHECK(data != nullptr, "hepgnn's CPU caching allocator: out of memory mapping ", size,
                    " bytes (", stats_.live_bytes + stats_.free_bytes,
                    " bytes mapped already): ", std::strerror(errno),
                    "; use a smaller graph or batch, or more memory");
        block = new Block{this, data, size};
        ++stats_.misses;
    }
    stats_.live_bytes += block->size;
    stats_.peak_live_bytes = std::max(stats_.peak_live_bytes, stats_.live_bytes);
    stats_.peak_mapped_bytes =
        std::max(stats_.peak_mapped_bytes, stats_.live_bytes + stats_.free_bytes);
    return {block->data, block, &CpuCachingAllocator::free_block, c10::Device(c10::kCPU)};
}

void CpuCachingAllocator::free_block(void* block) {
    auto* b = static_cast<Block*>(block);
    b->owner->give_back(b);
}

void CpuCachingAllocator::give_back(Block* block) const {
    std::lock_guard<std::mutex> lock(mutex_);
    block->freed_at = ++clock_;
    stats_.live_bytes -= block->size;
    stats_.free_bytes += block->size;
    free_.emplace(block->size, block);
}

void CpuCachingAllocator::release_oldest(size_t bytes) const {
    size_t released = 0;
    while (released < bytes && !free_.empty()) {
        auto oldest = std::min_element(
            free_.begin(), free_.end(),
            [](const auto& a, const auto& b) { return a.second->freed_at < b.second->freed_at; });
        Block* block = oldest->second;
        free_.erase(oldest);
        munmap(block->data, block->size);
        released += block->size;
        stats_.free_bytes -= block->size;
        ++stats_.releases;
        delete block;
    }
}

CachingAllocatorStats CpuCachingAllocator::stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

void CpuCachingAllocator::release_free_blocks() const {
    std::lock_guard<std::mutex> lock(mutex_);
    release_oldest(stats_.free_bytes);
}

namespace {

CpuCachingAllocator*& installed() {
    static CpuCachingAllocator* allocator = nullptr;
    return allocator;
}

}  // namespace

void install_cpu_caching_allocator() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Never destroyed: tensors may outlive any static destructor order.
        installed() = new CpuCachingAllocator(c10::GetDefaultCPUAllocator());
        c10::SetCPUAllocator(installed(), /*priority=*/1);
    });
}

bool cpu_caching_allocator_installed() {
    return installed() != nullptr;
}

CachingAllocatorStats cpu_caching_allocator_stats() {
    return installed() ? installed()->stats() : CachingAllocatorStats{};
}

}  // namespace hepgnn::models
