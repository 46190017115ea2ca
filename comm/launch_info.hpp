// Where this process sits in a parallel launch: global rank and size, and the
// local rank on its node (one GPU per local rank). Read once at start-up from
// the launcher's environment (SLURM, Open MPI or PMI) by the caller, so no
// component reads environment variables itself.
#pragma once

#include <functional>
#include <optional>
#include <string>

namespace hepgnn::comm {

struct LaunchInfo {
    int rank = 0;
    int size = 1;
    int local_rank = 0;
    int local_size = 1;
    std::string source = "none";  // which launcher's variables were used

    bool is_parallel_launch() const { return size > 1 || source != "none"; }
};

/// Looks a variable up; returns nullopt when unset. Injectable for tests.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

/// The process environment.
EnvLookup process_env();

/// SLURM_PROCID/SLURM_NTASKS/SLURM_LOCALID (only inside a job step, i.e. with
/// SLURM_STEP_ID set), then OMPI_COMM_WORLD_*, then PMIX_RANK / PMI_RANK /
/// PMI_SIZE. Malformed values give hepgnn::Error naming the variable.
LaunchInfo detect_launch(const EnvLookup& env);

}  // namespace hepgnn::comm
