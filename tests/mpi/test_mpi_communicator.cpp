#include <gtest/gtest.h>

#include <chrono>
#include <numeric>
#include <thread>

#include "comm/mpi_communicator.hpp"

using namespace hepgnn::comm;

TEST(MpiCommunicator, AllreduceSumsMaxesAndMins) {
    auto comm = make_mpi_communicator();
    const int r = comm->rank(), n = comm->size();
    ASSERT_GE(n, 2) << "run under mpirun -np 2 or more";
    std::vector<float> v(1000);
    for (size_t i = 0; i < v.size(); ++i) v[i] = float(i) * (r + 1);
    comm->allreduce(v.data(), v.size());
    const float factor = float(n * (n + 1) / 2);
    for (size_t i = 0; i < v.size(); ++i) ASSERT_FLOAT_EQ(v[i], float(i) * factor);
    EXPECT_EQ(comm->allreduce_value<int64_t>(r, ReduceOp::kMax), n - 1);
    EXPECT_EQ(comm->allreduce_value<int64_t>(r + 5, ReduceOp::kMin), 5);
    EXPECT_DOUBLE_EQ(comm->allreduce_value<double>(0.5), 0.5 * n);
}

TEST(MpiCommunicator, BroadcastAndAllgather) {
    auto comm = make_mpi_communicator();
    const int r = comm->rank(), n = comm->size();
    std::vector<int32_t> v(17, r == 1 ? 42 : -1);
    comm->broadcast(v.data(), v.size(), 1);
    for (int32_t x : v) EXPECT_EQ(x, 42);
    const auto all = comm->allgather_value<int64_t>(10 * r);
    ASSERT_EQ(all.size(), size_t(n));
    for (int k = 0; k < n; ++k) EXPECT_EQ(all[k], 10 * k);
    EXPECT_EQ(comm->broadcast_string(r == 0 ? "from root" : ""), "from root");
    comm->barrier();
}

TEST(MpiCommunicator, AgreeOnErrorReportsTheLowestFailingRank) {
    auto comm = make_mpi_communicator();
    const int r = comm->rank(), n = comm->size();
    EXPECT_EQ(comm->agree_on_error(""), "");
    const std::string e = comm->agree_on_error(r >= 1 ? "bad file " + std::to_string(r) : "");
    EXPECT_EQ(e, "rank 1: bad file 1");
    const std::string last = comm->agree_on_error(r == n - 1 ? "x" : "");
    EXPECT_EQ(last, "rank " + std::to_string(n - 1) + ": x");
}

// Note [Collective deadlines]: a rank that is late, but within the deadline,
// costs a stall report (on stderr), never the job; and the arrival reports to
// rank 0 do not disturb the results of many collectives in a row, as in a
// training step.
TEST(MpiCommunicator, ALateRankWithinTheDeadlineOnlyDelaysTheCollective) {
    auto comm = make_mpi_communicator();
    const int r = comm->rank(), n = comm->size();
    comm->set_deadlines({/*timeout_s=*/30, /*stall_warning_s=*/0.2});
    if (r == n - 1) std::this_thread::sleep_for(std::chrono::milliseconds(600));
    const auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(comm->allreduce_value<int64_t>(r + 1), int64_t{n} * (n + 1) / 2);
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (r != n - 1) EXPECT_GT(waited, 0.3);  // it did wait for the late rank
    for (int k = 0; k < 2000; ++k) {
        ASSERT_EQ(comm->allreduce_value<int64_t>(k), int64_t{k} * n);
        if (k % 500 == 0) comm->barrier();
    }
    comm->set_deadlines({});
}
