// Bucketed gradient allreduce overlapped with backward (the idea of PyTorch's
// c10d Reducer, written for hepgnn's plain-buffer communicator).
//
// Note [Gradient buckets]: parameters are grouped in reverse order (backward
// produces the last layers' gradients first) into flat buckets of about
// `bucket_mb`, with a small first bucket so communication starts early. Each
// parameter has a {bucket, offset} slot. As autograd produces a gradient, the
// caller copies it into its slot and calls mark_ready(); when every slot of a
// bucket is ready, the communication thread allreduces it. Buckets launch
// strictly in order (0, 1, ...) on every rank, so all ranks issue the same
// collectives in the same order.
//
// Note [Communication thread]: one thread owns every collective issued while
// a step's backward runs (MPI is initialised MPI_THREAD_SERIALIZED). Between
// steps it is idle in a condition wait, so the training thread may issue its
// own collectives there.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "comm/communicator.hpp"

namespace hepgnn::comm {

struct BucketPlan {
    struct Slot {
        int bucket = 0;
        int64_t offset = 0;  // elements into the bucket
        int64_t numel = 0;
    };
    std::vector<Slot> slots;                // per parameter
    std::vector<int64_t> bucket_numel;      // elements per bucket
    std::vector<std::vector<int>> members;  // parameters per bucket

    /// Reverse parameter order; the first bucket holds at most
    /// `first_bucket_bytes`, later ones at most `bucket_bytes` (a parameter
    /// larger than that gets a bucket of its own). Elements are float32.
    static BucketPlan build(const std::vector<int64_t>& param_numels, size_t bucket_bytes,
                            size_t first_bucket_bytes);
};

class GradientReducer {
public:
    struct Config {
        double bucket_mb = 25.0;       // bucket size (MB of float32)
        double first_bucket_mb = 1.0;  // the first bucket, small so communication starts early
        // Longest wait for a step's buckets before giving up; longer than the
        // communicator's deadline, which ends the job first (Note [Collective deadlines]).
        double timeout_s = 360.0;
    };

    /// Checks over `host` that every rank has the same parameter count and
    /// sizes (an error names the first differing parameter) and starts the
    /// thread, which reduces the buckets over `device`. Note [Host and device
    /// collectives]: `device` only ever sees the bucket buffers, so it may be
    /// NCCL (device memory), while the set-up's host vectors go over MPI.
    GradientReducer(Communicator& host, Communicator& device, std::vector<int64_t> param_numels,
                    Config config);
    /// CPU training: one communicator for both.
    GradientReducer(Communicator& comm, std::vector<int64_t> param_numels, Config config)
        : GradientReducer(comm, comm, std::move(param_numels), config) {}
    ~GradientReducer();
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;

    const BucketPlan& plan() const { return plan_; }
    /// Bucket storage, one pointer per bucket with plan().bucket_numel[b]
    /// floats (host memory for MPI, device memory for NCCL). Owned by the caller.
    void attach_buffers(std::vector<float*> buffers);

    /// Starts a step: no parameter is ready.
    void begin_step();
    /// The gradient of `param` is in its slot. Thread-safe (autograd calls it).
    /// Marking a parameter twice in one step is a bug.
    void mark_ready(int param);
    /// Marks the parameters that got no gradient this step after calling
    /// `fill_missing(param)` (which must zero its slot), then waits until every
    /// bucket is reduced. Throws hepgnn::Error if a collective failed or the
    /// wait exceeded the timeout.
    void finish(const std::function<void(int)>& fill_missing);

    /// Seconds finish() spent waiting for communication, summed over steps.
    double wait_seconds() const { return wait_seconds_; }
    /// Per bucket of the last step: seconds from begin_step() to the start of
    /// its allreduce (how much of it overlapped with backward).
    std::vector<double> launch_offsets() const;

private:
    void run();  // the communication thread

    Communicator& device_;  // the bucket allreduces, nothing else
    BucketPlan plan_;
    Config config_;
    std::vector<float*> buffers_;

    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<int> pending_;     // per bucket: slots not yet ready
    std::vector<uint8_t> marked_;  // per parameter, this step
    int next_launch_ = 0;          // next bucket to reduce
    int reduced_ = 0;              // buckets reduced this step
    bool active_ = false;          // a step is in progress
    bool stop_ = false;
    bool in_collective_ = false;  // the thread is inside device_.allreduce
    std::string error_;           // from the communication thread
    double wait_seconds_ = 0;
    std::chrono::steady_clock::time_point step_start_;
    std::vector<double> launch_offsets_;  // per bucket, this step
    std::thread thread_;
};

}  // namespace hepgnn::comm
