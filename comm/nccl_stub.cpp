// Built when CUDA/NCCL were not found at configure time.
#include "comm/nccl_communicator.hpp"
#include "core/error.hpp"

namespace hepgnn::comm {

bool nccl_available() {
    return false;
}
int cuda_device_count() {
    return 0;
}

std::unique_ptr<Communicator> make_nccl_communicator(Communicator&, int) {
    HEPGNN_FAIL(
        "cannot use distributed.backend: nccl: hepgnn was built without NCCL (CUDA and "
        "NCCL were not found when it was configured); use distributed.backend: mpi or "
        "rebuild with CUDA and NCCL");
}

}  // namespace hepgnn::comm
