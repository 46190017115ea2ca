#include <gtest/gtest.h>

#include <thread>

#include "comm/gradient_reducer.hpp"
#include "comm/mpi_communicator.hpp"
#include "core/error.hpp"

using namespace hepgnn::comm;

TEST(MpiGradientReducer, BucketsSumAcrossRanksOverManySteps) {
    auto comm = make_mpi_communicator();
    const int r = comm->rank(), n = comm->size();
    std::vector<int64_t> numels;
    for (int p = 0; p < 12; ++p) numels.push_back(1000 + 37 * p);
    GradientReducer::Config cfg;
    cfg.bucket_mb = 0.01;
    cfg.first_bucket_mb = 0.004;
    GradientReducer reducer(*comm, numels, cfg);
    ASSERT_GT(reducer.plan().members.size(), 3u);
    std::vector<std::vector<float>> storage;
    std::vector<float*> ptrs;
    for (int64_t k : reducer.plan().bucket_numel) storage.emplace_back(k);
    for (auto& s : storage) ptrs.push_back(s.data());
    reducer.attach_buffers(ptrs);
    for (int step = 0; step < 20; ++step) {
        reducer.begin_step();
        std::thread autograd([&] {
            for (int p = 11; p >= 0; --p) {
                if (r == 1 && p == 5) continue;  // unused on rank 1 this step
                const auto slot = reducer.plan().slots[p];
                for (int64_t i = 0; i < slot.numel; ++i)
                    storage[slot.bucket][slot.offset + i] = float(r + 1) * (p + step);
                reducer.mark_ready(p);
            }
        });
        autograd.join();
        reducer.finish([&](int p) {
            const auto slot = reducer.plan().slots[p];
            std::fill_n(storage[slot.bucket].begin() + slot.offset, slot.numel, 0.0f);
        });
        const float ranks_sum = float(n * (n + 1) / 2);
        for (int p = 0; p < 12; ++p) {
            const auto slot = reducer.plan().slots[p];
            const float want =
                (p == 5 && n >= 2) ? (ranks_sum - 2.0f) * (p + step) : ranks_sum * (p + step);
            ASSERT_FLOAT_EQ(storage[slot.bucket][slot.offset + slot.numel - 1], want)
                << "param " << p << " step " << step;
        }
    }
}

TEST(MpiGradientReducer, DifferentModelsAcrossRanksAreRejected) {
    auto comm = make_mpi_communicator();
    std::vector<int64_t> numels = {10, 20, 30};
    if (comm->rank() == 1) numels[1] = 21;
    try {
        GradientReducer reducer(*comm, numels, {});
        FAIL() << "no error";
    } catch (const hepgnn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("parameter 1 has 21 elements here but 20 on rank 0"),
                  std::string::npos)
            << e.what();
    }
}
