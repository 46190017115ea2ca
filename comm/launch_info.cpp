#include "comm/launch_info.hpp"

#include <cstdlib>

#include "core/error.hpp"

namespace hepgnn::comm {
namespace {

std::optional<int> read_int(const EnvLookup& env, const std::string& name, int min_value) {
    auto v = env(name);
    if (!v) return std::nullopt;
    char* end = nullptr;
    const long value = std::strtol(v->c_str(), &end, 10);
    HEPGNN_CHECK(!v->empty() && end && *end == '\0' && value >= min_value && value < (1L << 30),
                 "environment variable {}='{}' is not a valid integer >= {}; the launcher "
                 "environment is broken: unset it or launch with mpirun/srun",
                 name, *v, min_value);
    return static_cast<int>(value);
}

}  // namespace

EnvLookup process_env() {
    return [](const std::string& name) -> std::optional<std::string> {
        const char* v = std::getenv(name.c_str());
        if (!v) return std::nullopt;
        return std::string(v);
    };
}

LaunchInfo detect_launch(const EnvLookup& env) {
    LaunchInfo info;
    const auto fill = [&](const char* source, const char* rank, const char* size,
                          const char* local_rank, const char* local_size) -> bool {
        auto r = read_int(env, rank, 0);
        auto s = read_int(env, size, 1);
        if (!r || !s) return false;
        HEPGNN_CHECK(*r < *s, "environment: {}={} is not below {}={}", rank, *r, size, *s);
        info.rank = *r;
        info.size = *s;
        info.local_rank = local_rank ? read_int(env, local_rank, 0).value_or(0) : 0;
        info.local_size = local_size ? read_int(env, local_size, 1).value_or(1) : 1;
        info.source = source;
        return true;
    };
    // SLURM sets SLURM_PROCID in the batch script too; only a job step (srun)
    // is a parallel launch.
    if (env("SLURM_STEP_ID") && env("SLURM_STEP_ID") != std::optional<std::string>("batch") &&
        fill("slurm", "SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "SLURM_NTASKS_PER_NODE"))
        return info;
    if (fill("openmpi", "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE",
             "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_LOCAL_SIZE"))
        return info;
    if (fill("pmix", "PMIX_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS")) return info;
    if (fill("pmi", "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS")) return info;
    return info;
}

}  // namespace hepgnn::comm
