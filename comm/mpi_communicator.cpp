#include "comm/mpi_communicator.hpp"

#include <mpi.h>

#include <cstdlib>

#include "core/error.hpp"

namespace hepgnn::comm {
namespace {

MPI_Datatype to_mpi(DataType type) {
    switch (type) {
        case DataType::kFloat32:
            return MPI_FLOAT;
        case DataType::kFloat64:
            return MPI_DOUBLE;
        case DataType::kInt32:
            return MPI_INT32_T;
        case DataType::kInt64:
            return MPI_INT64_T;
        case DataType::kUInt8:
            return MPI_UINT8_T;
    }
    return MPI_DATATYPE_NULL;
}

MPI_Op to_mpi(ReduceOp op) {
    switch (op) {
        case ReduceOp::kSum:
            return MPI_SUM;
        case ReduceOp::kMax:
            return MPI_MAX;
        case ReduceOp::kMin:
            return MPI_MIN;
    }
    return MPI_OP_NULL;
}

void check_mpi(int code, const char* what) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(code, text, &len);
    HEPGNN_FAIL(
        "MPI {} failed: {} (a rank probably died or the network failed; check the other "
        "ranks' logs)",
        what, std::string(text, static_cast<size_t>(len)));
}

// MPI counts are int; split large buffers so multi-GB reductions work.
constexpr size_t kMaxChunk = size_t{1} << 30;

class MpiCommunicator final : public Communicator {
public:
    MpiCommunicator() {
        check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "Comm_dup");
        MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
    }
    ~MpiCommunicator() override {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (!finalized) MPI_Comm_free(&comm_);
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }
    std::string backend() const override { return "mpi"; }

    void allreduce(void* data, size_t count, DataType type, ReduceOp op) override {
        auto* bytes = static_cast<char*>(data);
        for (size_t done = 0; done < count;) {
            const size_t n = std::min(kMaxChunk, count - done);
            check_mpi(MPI_Allreduce(MPI_IN_PLACE, bytes + done * element_size(type),
                                    static_cast<int>(n), to_mpi(type), to_mpi(op), comm_),
                      "Allreduce");
            done += n;
        }
    }
    void broadcast(void* data, size_t count, DataType type, int root) override {
        auto* bytes = static_cast<char*>(data);
        for (size_t done = 0; done < count;) {
            const size_t n = std::min(kMaxChunk, count - done);
            check_mpi(MPI_Bcast(bytes + done * element_size(type), static_cast<int>(n),
                                to_mpi(type), root, comm_),
                      "Bcast");
            done += n;
        }
    }
    void allgather(const void* send, void* recv, size_t count, DataType type) override {
        HEPGNN_INTERNAL_CHECK(count < kMaxChunk, "allgather of {} elements", count);
        check_mpi(MPI_Allgather(send, static_cast<int>(count), to_mpi(type), recv,
                                static_cast<int>(count), to_mpi(type), comm_),
                  "Allgather");
    }
    void barrier() override { check_mpi(MPI_Barrier(comm_), "Barrier"); }

private:
    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0;
    int size_ = 1;
};

}  // namespace

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
    int initialized = 0;
    MPI_Initialized(&initialized);
    if (initialized) return;
    int provided = 0;
    MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided);
    HEPGNN_CHECK(provided >= MPI_THREAD_SERIALIZED,
                 "this MPI library gives thread level {} but hepgnn needs MPI_THREAD_SERIALIZED",
                 provided);
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}

MpiRuntime::~MpiRuntime() {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
}

void MpiRuntime::abort(int code) {
    MPI_Abort(MPI_COMM_WORLD, code);
    std::_Exit(code);
}

std::unique_ptr<Communicator> make_mpi_communicator() {
    return std::make_unique<MpiCommunicator>();
}

}  // namespace hepgnn::comm
