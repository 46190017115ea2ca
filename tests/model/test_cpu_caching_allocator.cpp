// The caching allocator of Note [CPU caching allocator]: reuse, its memory bound, and that torch
// computes the same with it installed.
#include "models/cpu_caching_allocator.hpp"

#include <c10/core/CPUAllocator.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cstring>
#include <random>
#include <vector>

#include "model_test_util.hpp"
#include "models/interaction_network.hpp"

namespace hepgnn::models {
namespace {

constexpr size_t kMB = size_t{1} << 20;

TEST(CpuCachingAllocator, ReusesAFreedBlockOfTheSameSize) {
    CpuCachingAllocator allocator(c10::GetDefaultCPUAllocator());
    void* first = nullptr;
    {
        auto block = allocator.allocate(100 * kMB);
        first = block.get();
        std::memset(first, 1, 100 * kMB);  // the block is usable memory
    }
    auto again = allocator.allocate(100 * kMB - 12345);  // rounds to the same block size
    EXPECT_EQ(again.get(), first);
    const auto stats = allocator.stats();
    EXPECT_EQ(stats.misses, 1);
    EXPECT_EQ(stats.hits, 1);
    EXPECT_EQ(stats.live_bytes, 100 * kMB);
    EXPECT_EQ(stats.free_bytes, 0u);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(again.get()) % (2 * kMB), 0u);  // huge-page aligned
}

TEST(CpuCachingAllocator, NeverHandsOutABlockMuchLargerThanAsked) {
    CpuCachingAllocator allocator(c10::GetDefaultCPUAllocator());
    { auto big = allocator.allocate(200 * kMB); }
    auto smaller = allocator.allocate(100 * kMB);  // 200 MB is more than 1/8 too large
    const auto stats = allocator.stats();
    EXPECT_EQ(stats.hits, 0);
    EXPECT_EQ(stats.misses, 2);
    // The miss released the idle 200 MB block before mapping 100 MB.
    EXPECT_EQ(stats.releases, 1);
    EXPECT_EQ(stats.free_bytes, 0u);
    EXPECT_EQ(stats.peak_mapped_bytes, 200 * kMB);
}

TEST(CpuCachingAllocator, SmallBlocksGoToTheDefaultAllocator) {
    CpuCachingAllocator allocator(c10::GetDefaultCPUAllocator());
    auto small = allocator.allocate(1000);
    ASSERT_NE(small.get(), nullptr);
    EXPECT_NE(small.get_context(), nullptr);
    const auto stats = allocator.stats();
    EXPECT_EQ(stats.hits + stats.misses, 0);
    EXPECT_EQ(stats.live_bytes, 0u);
}

// The bound of the Note: over any sequence of allocations and frees, the mapped bytes never
// exceed the peak of the live bytes.
TEST(CpuCachingAllocator, MappedMemoryStaysBelowThePeakOfLiveMemory) {
    CpuCachingAllocator allocator(c10::GetDefaultCPUAllocator());
    std::mt19937 rng(11);
    const std::vector<size_t> sizes{3 * kMB, 9 * kMB, 9 * kMB + 4096, 17 * kMB, 40 * kMB};
    std::vector<c10::DataPtr> live;
    for (int step = 0; step < 3000; ++step) {
        if (!live.empty() && rng() % 2 == 0) {
            live.erase(live.begin() + static_cast<std::ptrdiff_t>(rng() % live.size()));
        } else if (live.size() < 12) {
            live.push_back(allocator.allocate(sizes[rng() % sizes.size()]));
        }
        const auto stats = allocator.stats();
        ASSERT_LE(stats.live_bytes + stats.free_bytes, stats.peak_live_bytes) << "step " << step;
    }
    const auto stats = allocator.stats();
    EXPECT_GT(stats.hits, stats.misses);  // the repeated sizes are reused
    EXPECT_GT(stats.releases, 0);
    live.clear();
    allocator.release_free_blocks();
    EXPECT_EQ(allocator.stats().free_bytes, 0u);
}

// Installed as torch's CPU allocator, training computes bit for bit what it computes without:
// reused blocks hold old data, and nothing may depend on fresh memory being zero.
TEST(CpuCachingAllocator, InstalledTrainingStepsGiveTheSameGradients) {
    const auto graph = testing::random_graph(3000, 20000, 5);
    auto gradients = [&] {
        torch::manual_seed(3);
        InteractionNetwork model{ModelConfig{}};
        const auto labels = (torch::rand({graph.num_edges()}) < 0.2).to(torch::kFloat32);
        std::vector<torch::Tensor> grads;
        for (int step = 0; step < 2; ++step) {
            model.zero_grad();
            torch::binary_cross_entropy_with_logits(model.forward(graph), labels).backward();
        }
        for (const auto& p : model.parameters()) grads.push_back(p.grad().clone());
        return grads;
    };
    const auto before = gradients();
    install_cpu_caching_allocator();
    ASSERT_TRUE(cpu_caching_allocator_installed());
    const auto after = gradients();
    const auto stats = cpu_caching_allocator_stats();
    EXPECT_GT(stats.hits, 0);
    ASSERT_EQ(before.size(), after.size());
    for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));
}

}  // namespace
}  // namespace hepgnn::models
