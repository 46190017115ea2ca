#include <gtest/gtest.h>

#include <map>

#include "comm/communicator.hpp"
#include "comm/launch_info.hpp"
#include "core/error.hpp"

using namespace hepgnn::comm;

namespace {
EnvLookup env_of(std::map<std::string, std::string> vars) {
    return [vars](const std::string& name) -> std::optional<std::string> {
        auto it = vars.find(name);
        if (it == vars.end()) return std::nullopt;
        return it->second;
    };
}
}  // namespace

TEST(LaunchInfo, NoLauncherMeansOneRank) {
    const auto info = detect_launch(env_of({}));
    EXPECT_EQ(info.rank, 0);
    EXPECT_EQ(info.size, 1);
    EXPECT_FALSE(info.is_parallel_launch());
}

TEST(LaunchInfo, ReadsOpenMpiSlurmAndPmi) {
    auto ompi = detect_launch(env_of({{"OMPI_COMM_WORLD_RANK", "3"},
                                      {"OMPI_COMM_WORLD_SIZE", "4"},
                                      {"OMPI_COMM_WORLD_LOCAL_RANK", "1"},
                                      {"OMPI_COMM_WORLD_LOCAL_SIZE", "2"}}));
    EXPECT_EQ(ompi.rank, 3);
    EXPECT_EQ(ompi.size, 4);
    EXPECT_EQ(ompi.local_rank, 1);
    EXPECT_EQ(ompi.source, "openmpi");
    auto slurm = detect_launch(env_of({{"SLURM_STEP_ID", "0"},
                                       {"SLURM_PROCID", "5"},
                                       {"SLURM_NTASKS", "8"},
                                       {"SLURM_LOCALID", "1"},
                                       {"OMPI_COMM_WORLD_RANK", "0"},
                                       {"OMPI_COMM_WORLD_SIZE", "1"}}));
    EXPECT_EQ(slurm.rank, 5);
    EXPECT_EQ(slurm.size, 8);
    EXPECT_EQ(slurm.local_rank, 1);
    EXPECT_EQ(slurm.source, "slurm");
    // The batch script itself is not a parallel launch.
    auto batch = detect_launch(
        env_of({{"SLURM_STEP_ID", "batch"}, {"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "2"}}));
    EXPECT_FALSE(batch.is_parallel_launch());
    auto pmi = detect_launch(env_of({{"PMI_RANK", "1"}, {"PMI_SIZE", "2"}}));
    EXPECT_EQ(pmi.rank, 1);
    EXPECT_EQ(pmi.size, 2);
}

TEST(LaunchInfo, MalformedValuesNameTheVariable) {
    try {
        detect_launch(env_of({{"OMPI_COMM_WORLD_RANK", "x"}, {"OMPI_COMM_WORLD_SIZE", "2"}}));
        FAIL() << "no error";
    } catch (const hepgnn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("OMPI_COMM_WORLD_RANK='x'"), std::string::npos);
    }
    EXPECT_THROW(detect_launch(env_of({{"PMI_RANK", "2"}, {"PMI_SIZE", "2"}})), hepgnn::Error);
}

TEST(LocalCommunicator, CollectivesAreIdentities) {
    auto comm = make_local_communicator();
    float v[3] = {1, 2, 3};
    comm->allreduce(v, 3);
    EXPECT_EQ(v[2], 3.0f);
    EXPECT_EQ(comm->allgather_value<int64_t>(7), std::vector<int64_t>{7});
    EXPECT_EQ(comm->agree_on_error(""), "");
    EXPECT_EQ(comm->agree_on_error("boom"), "boom");
    EXPECT_EQ(comm->broadcast_string("abc"), "abc");
}
