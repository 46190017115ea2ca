// The NCCL back-end (GPU training): one communicator per rank over the GPU of
// its local rank, started with ncclGetUniqueId on rank 0, MPI_Bcast of the id
// (over `bootstrap`), and ncclCommInitRank. Buffers passed to its collectives
// are device pointers. Built when CUDA and NCCL are found; otherwise every
// entry point throws "hepgnn was built without NCCL" (comm/nccl_stub.cpp).
#pragma once

#include <memory>

#include "comm/communicator.hpp"

namespace hepgnn::comm {

/// True when this binary has the real NCCL back-end.
bool nccl_available();

/// Number of CUDA devices visible to this process (0 without CUDA or GPUs).
int cuda_device_count();

/// A communicator over the same ranks as `bootstrap` (a live MPI communicator),
/// using GPU `local_rank % device count`. Throws hepgnn::Error naming the
/// cause when NCCL is not built in or no GPU is visible.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int local_rank);

}  // namespace hepgnn::comm
