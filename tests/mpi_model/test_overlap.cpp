// Note [Gradient buckets]: with several buckets, the first bucket's allreduce
// starts while backward is still running, on the real MPI communicator. The
// shipped model's 254 KB of gradients are split here into buckets of ~40 KB
// (distributed.bucket_mb / first_bucket_mb); with the defaults they are one.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <chrono>

#include "comm/mpi_communicator.hpp"
#include "models/gnn_model.hpp"
#include "trainer/gradient_sync.hpp"

using namespace hepgnn;

TEST(GradientOverlap, TheFirstBucketIsReducedWhileBackwardRuns) {
    auto comm = comm::make_mpi_communicator();
    models::ModelConfig config;  // the default interaction network
    torch::manual_seed(1);
    auto model = models::make_model(config);
    comm::GradientReducer::Config buckets;
    buckets.bucket_mb = 0.04;
    buckets.first_bucket_mb = 0.01;
    trainer::GradientSync sync(*comm, *comm, model->parameters(), buckets);
    ASSERT_GE(sync.num_buckets(), 4u);

    // A graph big enough that backward takes tens of milliseconds.
    const int64_t nodes = 10000, edges = 30000;
    const auto x = torch::randn({nodes, 3});
    const auto senders = torch::randint(0, nodes, {edges}, torch::kInt64);
    const auto receivers = torch::randint(0, nodes, {edges}, torch::kInt64);
    const auto graph = models::GraphInput::make(x, senders, receivers);
    for (int step = 0; step < 3; ++step) {
        sync.begin_step();
        const auto start = std::chrono::steady_clock::now();
        const auto loss = model->forward(graph).sum();
        const double forward_end =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        loss.backward();
        const double backward_end =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        sync.finish();
        const auto launches = sync.reducer().launch_offsets();
        ASSERT_EQ(launches.size(), sync.num_buckets());
        for (double t : launches) EXPECT_GE(t, forward_end);  // no gradient before backward
        EXPECT_LT(launches.front(), backward_end)
            << "step " << step << ": the first bucket's allreduce started "
            << launches.front() * 1e3 << " ms after begin_step, backward ended at "
            << backward_end * 1e3 << " ms";
        // Buckets launch in order.
        for (size_t b = 1; b < launches.size(); ++b) EXPECT_GE(launches[b], launches[b - 1]);
    }
}
