#include <gtest/gtest.h>

#include <numeric>
#include <thread>

#include "comm/gradient_reducer.hpp"
#include "core/error.hpp"

using namespace hepgnn::comm;

TEST(BucketPlan, ReverseOrderSmallFirstBucketEveryParameterOnce) {
    // 10 parameters of 1000 floats (4 kB each).
    const std::vector<int64_t> numels(10, 1000);
    const auto plan = BucketPlan::build(numels, 12000, 4000);
    ASSERT_EQ(plan.members.front(), std::vector<int>{9});  // last parameter first, alone
    ASSERT_EQ(plan.members.size(), 1u + 3u);               // then 3 params per 12 kB bucket
    EXPECT_EQ(plan.members[1], (std::vector<int>{8, 7, 6}));
    int64_t total = 0;
    std::vector<int> seen(10, 0);
    for (size_t b = 0; b < plan.members.size(); ++b) {
        int64_t offset = 0;
        for (int p : plan.members[b]) {
            seen[p]++;
            EXPECT_EQ(plan.slots[p].bucket, int(b));
            EXPECT_EQ(plan.slots[p].offset, offset);
            offset += numels[p];
        }
        EXPECT_EQ(offset, plan.bucket_numel[b]);
        total += plan.bucket_numel[b];
    }
    EXPECT_EQ(total, 10000);
    for (int s : seen) EXPECT_EQ(s, 1);
    // A parameter larger than a bucket gets one of its own.
    const auto big = BucketPlan::build({10, 100000, 10}, 4000, 4000);
    EXPECT_EQ(big.members.size(), 3u);
}

TEST(GradientReducer, ReducesBucketsAsTheyFillAndFillsMissingParameters) {
    auto comm = make_local_communicator();
    const std::vector<int64_t> numels = {3, 5, 7, 11};
    GradientReducer::Config cfg;
    cfg.bucket_mb = 40e-6;  // 40 bytes: about two small params per bucket
    cfg.first_bucket_mb = 20e-6;
    GradientReducer reducer(*comm, numels, cfg);
    const auto& plan = reducer.plan();
    std::vector<std::vector<float>> storage;
    std::vector<float*> ptrs;
    for (int64_t n : plan.bucket_numel) storage.emplace_back(n, -1.0f);
    for (auto& s : storage) ptrs.push_back(s.data());
    reducer.attach_buffers(ptrs);
    for (int step = 0; step < 3; ++step) {
        reducer.begin_step();
        // "Autograd" produces gradients in reverse order from another thread;
        // parameter 1 gets none (unused this step).
        std::thread producer([&] {
            for (int p : {3, 2, 0}) {
                auto slot = plan.slots[p];
                for (int64_t i = 0; i < slot.numel; ++i)
                    storage[slot.bucket][slot.offset + i] = float(p + step);
                reducer.mark_ready(p);
            }
        });
        producer.join();
        std::vector<int> filled;
        reducer.finish([&](int p) {
            filled.push_back(p);
            auto slot = plan.slots[p];
            std::fill_n(storage[slot.bucket].begin() + slot.offset, slot.numel, 0.0f);
        });
        EXPECT_EQ(filled, std::vector<int>{1});
        EXPECT_EQ(storage[plan.slots[2].bucket][plan.slots[2].offset], float(2 + step));
        EXPECT_EQ(storage[plan.slots[1].bucket][plan.slots[1].offset], 0.0f);
    }
}

TEST(GradientReducer, MarkingTwiceIsABug) {
    auto comm = make_local_communicator();
    GradientReducer reducer(*comm, {4, 4}, {});
    std::vector<float> buf(reducer.plan().bucket_numel[0]);
    std::vector<float*> ptrs(reducer.plan().members.size(), buf.data());
    std::vector<std::vector<float>> storage;
    for (int64_t n : reducer.plan().bucket_numel) storage.emplace_back(n);
    for (size_t b = 0; b < storage.size(); ++b) ptrs[b] = storage[b].data();
    reducer.attach_buffers(ptrs);
    reducer.begin_step();
    reducer.mark_ready(0);
    EXPECT_THROW(reducer.mark_ready(0), hepgnn::InternalError);
    reducer.finish([](int) {});
}
