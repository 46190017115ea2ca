#include "comm/mpi_communicator.hpp"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <thread>
#include <vector>

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

// Note [Collective deadlines] (the MPI side). Every collective is issued
// non-blocking and waited for by polling, so a wait can end. To name the
// ranks that hold it up, each rank tells rank 0 (the coordinator, as in
// Horovod's stall inspector) the number of every collective it enters, and
// once a second while it waits in one, with a small eager send on a
// communicator of its own: that send completes without the receiver, so a
// stopped rank 0 blocks nobody. Rank 0 keeps the latest number and the time
// last heard per rank. Absent are the ranks that have not entered the
// collective, and those that entered it but fell silent (stopped inside
// it). At the stall warning rank 0 prints them and sends the list to every
// rank, so that at the deadline each surviving rank ends the job with one
// line naming them. Ending means MPI_Abort: a thread
// stuck in a collective is never joined, and the launcher (mpirun, srun)
// kills the stopped rank too.
constexpr int kTagArrival = 1;
constexpr int kTagAbsent = 2;
constexpr double kHeartbeatS = 1.0;  // a waiting rank's reports, this often
constexpr double kSilentS = 3.0;     // no report for this long: the rank is not running

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
    return std::chrono::duration<double>(Clock::now() - t).count();
}

class MpiCommunicator final : public Communicator {
public:
    MpiCommunicator() {
        check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &comm_), "Comm_dup");
        check_mpi(MPI_Comm_dup(MPI_COMM_WORLD, &beacon_), "Comm_dup");
        MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
        MPI_Comm_set_errhandler(beacon_, MPI_ERRORS_RETURN);
        MPI_Comm_rank(comm_, &rank_);
        MPI_Comm_size(comm_, &size_);
        if (rank_ == 0) {
            arrived_.assign(static_cast<size_t>(size_), 0);
            heard_.assign(static_cast<size_t>(size_), Clock::now());
            if (size_ > 1) post_arrival_recv();
        }
    }
    ~MpiCommunicator() override {
        int finalized = 0;
        MPI_Finalized(&finalized);
        if (finalized) return;
        for (auto& s : sends_) MPI_Request_free(&s.request);
        if (arrival_recv_ != MPI_REQUEST_NULL) {
            MPI_Cancel(&arrival_recv_);
            MPI_Request_free(&arrival_recv_);
        }
        MPI_Comm_free(&beacon_);
        MPI_Comm_free(&comm_);
    }
    int rank() const override { return rank_; }
    int size() const override { return size_; }
    std::string backend() const override { return "mpi"; }
    void set_deadlines(const Deadlines& deadlines) override { deadlines_ = deadlines; }

    void allreduce(void* data, size_t count, DataType type, ReduceOp op) override {
        auto* bytes = static_cast<char*>(data);
        for (size_t done = 0; done < count;) {
            const size_t n = std::min(kMaxChunk, count - done);
            MPI_Request req = MPI_REQUEST_NULL;
            enter();
            check_mpi(MPI_Iallreduce(MPI_IN_PLACE, bytes + done * element_size(type),
                                     static_cast<int>(n), to_mpi(type), to_mpi(op), comm_, &req),
                      "Allreduce");
            wait(req, "Allreduce");
            done += n;
        }
    }
    void broadcast(void* data, size_t count, DataType type, int root) override {
        auto* bytes = static_cast<char*>(data);
        for (size_t done = 0; done < count;) {
            const size_t n = std::min(kMaxChunk, count - done);
            MPI_Request req = MPI_REQUEST_NULL;
            enter();
            check_mpi(MPI_Ibcast(bytes + done * element_size(type), static_cast<int>(n),
                                 to_mpi(type), root, comm_, &req),
                      "Bcast");
            wait(req, "Bcast");
            done += n;
        }
    }
    void allgather(const void* send, void* recv, size_t count, DataType type) override {
        HEPGNN_INTERNAL_CHECK(count < kMaxChunk, "allgather of {} elements", count);
        MPI_Request req = MPI_REQUEST_NULL;
        enter();
        check_mpi(MPI_Iallgather(send, static_cast<int>(count), to_mpi(type), recv,
                                 static_cast<int>(count), to_mpi(type), comm_, &req),
                  "Allgather");
        wait(req, "Allgather");
    }
    void barrier() override {
        MPI_Request req = MPI_REQUEST_NULL;
        enter();
        check_mpi(MPI_Ibarrier(comm_, &req), "Barrier");
        wait(req, "Barrier");
    }

private:
    struct PendingSend {
        uint64_t value;
        MPI_Request request;
    };

    /// A new collective: count it, and report it to the coordinator.
    void enter() {
        ++seq_;
        if (size_ == 1) return;
        if (rank_ == 0) {
            arrived_[0] = seq_;
            drain_arrivals();
            return;
        }
        report();
    }

    /// Other ranks: tells rank 0 "I am in collective seq_, and running".
    void report() {
        // Completed sends are dropped; the list stays short unless rank 0 stops.
        while (!sends_.empty()) {
            int done = 0;
            MPI_Test(&sends_.front().request, &done, MPI_STATUS_IGNORE);
            if (!done) break;
            sends_.pop_front();
        }
        sends_.push_back({seq_, MPI_REQUEST_NULL});
        MPI_Isend(&sends_.back().value, 1, MPI_UINT64_T, 0, kTagArrival, beacon_,
                  &sends_.back().request);
        last_report_ = Clock::now();
    }

    void post_arrival_recv() {
        MPI_Irecv(&arrival_buf_, 1, MPI_UINT64_T, MPI_ANY_SOURCE, kTagArrival, beacon_,
                  &arrival_recv_);
    }

    /// Rank 0: records every arrival report received so far.
    void drain_arrivals() {
        while (arrival_recv_ != MPI_REQUEST_NULL) {
            int done = 0;
            MPI_Status status;
            MPI_Test(&arrival_recv_, &done, &status);
            if (!done) return;
            auto& seen = arrived_[static_cast<size_t>(status.MPI_SOURCE)];
            seen = std::max(seen, arrival_buf_);
            heard_[static_cast<size_t>(status.MPI_SOURCE)] = Clock::now();
            post_arrival_recv();
        }
    }

    /// Rank 0: the ranks that have not entered collective `seq_`, or entered
    /// it and fell silent.
    std::string absent_ranks() const {
        std::string out;
        for (int r = 1; r < size_; ++r) {
            const uint64_t seen = arrived_[static_cast<size_t>(r)];
            const double silent = seconds_since(heard_[static_cast<size_t>(r)]);
            if (seen < seq_)
                out +=
                    fmt::format("{}{} (last in collective #{})", out.empty() ? "" : ", ", r, seen);
            else if (silent > kSilentS)
                out += fmt::format("{}{} (in it, silent for {:.0f} s)", out.empty() ? "" : ", ", r,
                                   silent);
        }
        return out;
    }

    /// Other ranks: takes rank 0's latest list of absent ranks, if any came.
    void receive_absent_list() {
        for (;;) {
            int flag = 0;
            MPI_Status status;
            MPI_Iprobe(0, kTagAbsent, beacon_, &flag, &status);
            if (!flag) return;
            int n = 0;
            MPI_Get_count(&status, MPI_CHAR, &n);
            std::string text(static_cast<size_t>(std::max(n, 0)), '\0');
            MPI_Recv(text.data(), n, MPI_CHAR, 0, kTagAbsent, beacon_, MPI_STATUS_IGNORE);
            absent_from_coordinator_ = text;
        }
    }

    /// Rank 0: sends the list of absent ranks to every rank (best effort, so
    /// that each can name them at its deadline). The lists stay alive here
    /// for as long as their sends may be in flight.
    void share_absent(const std::string& absent) {
        if (!absent_lists_.empty() && absent_lists_.back() == absent) return;
        absent_lists_.push_back(absent);
        const std::string& text = absent_lists_.back();
        for (int r = 1; r < size_; ++r) {
            MPI_Request req = MPI_REQUEST_NULL;
            MPI_Isend(text.data(), static_cast<int>(text.size()), MPI_CHAR, r, kTagAbsent, beacon_,
                      &req);
            MPI_Request_free(&req);
        }
    }

    void stall_report(const char* what, double waited) {
        if (rank_ == 0) {
            const std::string absent = absent_ranks();
            std::fprintf(stderr,
                         "hepgnn: warning: rank 0: collective #%llu (%s) has waited %.1f s for "
                         "rank(s) %s (distributed.stall_warning_s; the job ends at "
                         "distributed.timeout_s = %.0f s)\n",
                         static_cast<unsigned long long>(seq_), what, waited, absent.c_str(),
                         deadlines_.timeout_s);
            share_absent(absent);
        } else {
            std::fprintf(stderr,
                         "hepgnn: warning: rank %d: collective #%llu (%s) has waited %.1f s for "
                         "other ranks (rank 0 names them)\n",
                         rank_, static_cast<unsigned long long>(seq_), what, waited);
        }
        std::fflush(stderr);
    }

    [[noreturn]] void end_job(const char* what) {
        std::string absent = rank_ == 0 ? absent_ranks() : absent_from_coordinator_;
        if (absent.empty())
            absent = rank_ == 0 ? "none reported absent (a network fault?)"
                                : "unknown: rank 0 has not named them, so it may be the one";
        std::fprintf(stderr,
                     "hepgnn: error: rank %d: collective #%llu (%s) did not complete within "
                     "distributed.timeout_s = %.0f s; absent rank(s): %s; ending the job (a "
                     "stopped or hung rank, or a lost node)\n",
                     rank_, static_cast<unsigned long long>(seq_), what, deadlines_.timeout_s,
                     absent.c_str());
        std::fflush(stderr);
        // Let the other surviving ranks, whose deadlines fall within moments of
        // this one, print their line before the launcher kills the job.
        std::this_thread::sleep_for(std::chrono::seconds(3));
        MpiRuntime::abort(3);
    }

    /// Polls `req` to completion, with the stall report and the deadline.
    void wait(MPI_Request& req, const char* what) {
        const auto start = Clock::now();
        bool warned = false;
        auto pause = std::chrono::microseconds(20);
        while (true) {
            int done = 0;
            check_mpi(MPI_Test(&req, &done, MPI_STATUS_IGNORE), what);
            if (done) return;
            if (size_ > 1) {
                if (rank_ == 0) {
                    drain_arrivals();
                    // Ranks fall silent after the warning too: keep the others told.
                    if (warned && seconds_since(last_share_) >= kHeartbeatS) {
                        share_absent(absent_ranks());
                        last_share_ = Clock::now();
                    }
                } else {
                    receive_absent_list();
                    if (seconds_since(last_report_) >= kHeartbeatS) report();
                }
            }
            const double waited = seconds_since(start);
            if (!warned && waited >= deadlines_.stall_warning_s) {
                warned = true;
                stall_report(what, waited);
            }
            if (waited >= deadlines_.timeout_s) end_job(what);
            // Spin for the first 200 us (small collectives complete within
            // microseconds: the alpha that bench measures), then nap, up to 1 ms
            // at a time, so a waiting thread leaves the cores to compute.
            if (waited < 200e-6) continue;
            std::this_thread::sleep_for(pause);
            pause = std::min(pause * 2, std::chrono::microseconds(1000));
        }
    }

    MPI_Comm comm_ = MPI_COMM_NULL;
    MPI_Comm beacon_ = MPI_COMM_NULL;  // arrival reports and absent lists
    int rank_ = 0;
    int size_ = 1;
    Deadlines deadlines_;
    uint64_t seq_ = 0;  // collectives entered, the same count on every rank
    std::deque<PendingSend> sends_;
    Clock::time_point last_report_;
    // Rank 0 only:
    std::vector<uint64_t> arrived_;         // latest collective each rank reported entering
    std::vector<Clock::time_point> heard_;  // when each rank last reported
    uint64_t arrival_buf_ = 0;
    MPI_Request arrival_recv_ = MPI_REQUEST_NULL;
    std::deque<std::string> absent_lists_;  // sent to the other ranks
    Clock::time_point last_share_;
    // Other ranks:
    std::string absent_from_coordinator_;
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
