// The real NCCL back-end. Kept thin: rank bookkeeping, error agreement and
// all higher logic live in Communicator and are shared with the MPI path;
// this file only maps the four collectives onto NCCL calls on one stream.
#include "comm/nccl_communicator.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "comm/mpi_communicator.hpp"
#include "core/error.hpp"

namespace hepgnn::comm {
namespace {

#define HEPGNN_CUDA_CHECK(call)                                                                   \
    do {                                                                                          \
        const cudaError_t status_ = (call);                                                       \
        HEPGNN_CHECK(status_ == cudaSuccess, "CUDA call {} failed at {}:{}: {}", #call, __FILE__, \
                     __LINE__, cudaGetErrorString(status_));                                      \
    } while (0)

#define HEPGNN_NCCL_CHECK(call)                                                                   \
    do {                                                                                          \
        const ncclResult_t status_ = (call);                                                      \
        HEPGNN_CHECK(status_ == ncclSuccess, "NCCL call {} failed at {}:{}: {}", #call, __FILE__, \
                     __LINE__, ncclGetErrorString(status_));                                      \
    } while (0)

ncclDataType_t to_nccl(DataType type) {
    switch (type) {
        case DataType::kFloat32:
            return ncclFloat32;
        case DataType::kFloat64:
            return ncclFloat64;
        case DataType::kInt32:
            return ncclInt32;
        case DataType::kInt64:
            return ncclInt64;
        case DataType::kUInt8:
            return ncclUint8;
    }
    return ncclFloat32;
}

ncclRedOp_t to_nccl(ReduceOp op) {
    switch (op) {
        case ReduceOp::kSum:
            return ncclSum;
        case ReduceOp::kMax:
            return ncclMax;
        case ReduceOp::kMin:
            return ncclMin;
    }
    return ncclSum;
}

class NcclCommunicator final : public Communicator {
public:
    NcclCommunicator(Communicator& bootstrap, int device)
        : rank_(bootstrap.rank()), size_(bootstrap.size()) {
        HEPGNN_CUDA_CHECK(cudaSetDevice(device));
        ncclUniqueId id;
        if (rank_ == 0) HEPGNN_NCCL_CHECK(ncclGetUniqueId(&id));
        bootstrap.broadcast(reinterpret_cast<uint8_t*>(&id), sizeof(id), 0);
        HEPGNN_NCCL_CHECK(ncclCommInitRank(&comm_, size_, id, rank_));
        HEPGNN_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
        HEPGNN_CUDA_CHECK(cudaEventCreateWithFlags(&produced_, cudaEventDisableTiming));
    }
    ~NcclCommunicator() override {
        if (produced_) cudaEventDestroy(produced_);
        if (stream_) cudaStreamDestroy(stream_);
        if (comm_) ncclCommDestroy(comm_);
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }
    std::string backend() const override { return "nccl"; }
    void set_deadlines(const Deadlines& deadlines) override { deadlines_ = deadlines; }

    void allreduce(void* data, size_t count, DataType type, ReduceOp op) override {
        after_producer();
        HEPGNN_NCCL_CHECK(
            ncclAllReduce(data, data, count, to_nccl(type), to_nccl(op), comm_, stream_));
        sync();
    }
    void broadcast(void* data, size_t count, DataType type, int root) override {
        after_producer();
        HEPGNN_NCCL_CHECK(ncclBroadcast(data, data, count, to_nccl(type), root, comm_, stream_));
        sync();
    }
    void allgather(const void* send, void* recv, size_t count, DataType type) override {
        after_producer();
        HEPGNN_NCCL_CHECK(ncclAllGather(send, recv, count, to_nccl(type), comm_, stream_));
        sync();
    }
    void barrier() override {
        // NCCL has no barrier: an allreduce of one device int stands in for it.
        int* flag = nullptr;
        HEPGNN_CUDA_CHECK(cudaMalloc(&flag, sizeof(int)));
        allreduce(flag, 1, DataType::kInt32, ReduceOp::kSum);
        cudaFree(flag);
    }

private:
    // The buffer was written by a copy on torch's stream (the gradient into
    // its bucket, in an autograd hook); NCCL runs on stream_, which does not
    // wait for other streams (cudaStreamNonBlocking). An event recorded on
    // torch's stream and waited for by stream_ orders the copy first without
    // blocking the host. hepgnn never sets a current stream, so torch's is its
    // default stream of the device, the legacy default stream.
    void after_producer() {
        HEPGNN_CUDA_CHECK(cudaEventRecord(produced_, cudaStreamLegacy));
        HEPGNN_CUDA_CHECK(cudaStreamWaitEvent(stream_, produced_, 0));
    }
    // Note [Collective deadlines] on NCCL: the stream is polled rather than
    // synchronised, so a peer that never joins cannot hold this rank for
    // ever. At the deadline the communicator is aborted (ncclCommAbort ends
    // the kernels stuck on the stream) and the job ends through MPI, as for
    // MPI collectives. NCCL cannot tell which peer is missing: the error
    // says so, and the MPI collectives' reports name ranks.
    void sync() {
        const auto start = std::chrono::steady_clock::now();
        bool warned = false;
        for (auto pause = std::chrono::microseconds(20);;
             pause = std::min(pause * 2, std::chrono::microseconds(1000))) {
            const cudaError_t status = cudaStreamQuery(stream_);
            if (status == cudaSuccess) return;
            HEPGNN_CHECK(status == cudaErrorNotReady,
                         "CUDA stream of the NCCL collective failed: {}",
                         cudaGetErrorString(status));
            ncclResult_t async = ncclSuccess;
            HEPGNN_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async));
            HEPGNN_CHECK(async == ncclSuccess,
                         "NCCL collective failed: {} (a peer died or the "
                         "network failed; check the other ranks' logs)",
                         ncclGetErrorString(async));
            const double waited =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (!warned && waited >= deadlines_.stall_warning_s) {
                warned = true;
                std::fprintf(stderr,
                             "hepgnn: warning: rank %d: NCCL collective has waited %.1f s for "
                             "other ranks (distributed.stall_warning_s)\n",
                             rank_, waited);
            }
            if (waited >= deadlines_.timeout_s) {
                std::fprintf(stderr,
                             "hepgnn: error: rank %d: NCCL collective did not complete within "
                             "distributed.timeout_s = %.0f s (NCCL does not say which rank is "
                             "missing); ending the job\n",
                             rank_, deadlines_.timeout_s);
                std::fflush(stderr);
                ncclCommAbort(comm_);
                comm_ = nullptr;
                MpiRuntime::abort(3);
            }
            std::this_thread::sleep_for(pause);
        }
    }
    int rank_, size_;
    Deadlines deadlines_;
    ncclComm_t comm_ = nullptr;
    cudaStream_t stream_ = nullptr;
    cudaEvent_t produced_ = nullptr;
};

}  // namespace

bool nccl_available() {
    return true;
}

int cuda_device_count() {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) return 0;
    return n;
}

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& bootstrap, int local_rank) {
    const int devices = cuda_device_count();
    // Agree first: a rank without a GPU must not leave the others in ncclCommInitRank.
    bootstrap.throw_if_any_failed(
        devices > 0 ? std::string()
                    : "distributed.backend nccl needs a CUDA GPU, but this node has none "
                      "visible (check CUDA_VISIBLE_DEVICES and --gpus-per-task); use "
                      "distributed.backend: mpi on CPU nodes");
    return std::make_unique<NcclCommunicator>(bootstrap, local_rank % devices);
}

}  // namespace hepgnn::comm
