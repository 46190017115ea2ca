// The MPI back-end (CPU training, and start-up of NCCL). MpiRuntime owns
// MPI_Init/MPI_Finalize for the process; communicators duplicate
// MPI_COMM_WORLD with MPI_ERRORS_RETURN so MPI failures become exceptions
// with text instead of silent aborts.
#pragma once

#include <memory>

#include "comm/communicator.hpp"

namespace hepgnn::comm {

class MpiRuntime {
public:
    /// Initialises MPI with MPI_THREAD_SERIALIZED: calls may come from the
    /// communication thread, never from two threads at once.
    MpiRuntime(int* argc, char*** argv);
    ~MpiRuntime();
    MpiRuntime(const MpiRuntime&) = delete;
    MpiRuntime& operator=(const MpiRuntime&) = delete;

    /// Ends every rank of the job (last resort when agreement is impossible).
    [[noreturn]] static void abort(int code);
};

/// A communicator over all ranks of MPI_COMM_WORLD. Requires a live MpiRuntime.
std::unique_ptr<Communicator> make_mpi_communicator();

}  // namespace hepgnn::comm
