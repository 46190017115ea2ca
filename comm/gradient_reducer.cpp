#include "comm/gradient_reducer.hpp"

#include <chrono>

#include "core/error.hpp"

namespace hepgnn::comm {

BucketPlan BucketPlan::build(const std::vector<int64_t>& numels, size_t bucket_bytes,
                             size_t first_bucket_bytes) {
    BucketPlan plan;
    plan.slots.resize(numels.size());
    size_t limit = std::max<size_t>(4, first_bucket_bytes);
    for (int p = static_cast<int>(numels.size()) - 1; p >= 0; --p) {
        const auto bytes = static_cast<size_t>(numels[p]) * sizeof(float);
        const bool start_new =
            plan.members.empty() ||
            (plan.bucket_numel.back() > 0 &&
             static_cast<size_t>(plan.bucket_numel.back()) * sizeof(float) + bytes > limit);
        if (start_new) {
            if (!plan.members.empty()) limit = std::max<size_t>(4, bucket_bytes);
            plan.members.emplace_back();
            plan.bucket_numel.push_back(0);
        }
        const int b = static_cast<int>(plan.members.size()) - 1;
        plan.slots[p] = {b, plan.bucket_numel[b], numels[p]};
        plan.members[b].push_back(p);
        plan.bucket_numel[b] += numels[p];
    }
    return plan;
}

GradientReducer::GradientReducer(Communicator& comm, Communicator& device,
                                 std::vector<int64_t> numels, Config config)
    : device_(device), config_(config) {
    HEPGNN_INTERNAL_CHECK(comm.size() == device.size() && comm.rank() == device.rank(),
                          "host and device communicators of different shape");
    // Cross-rank invariant: the same parameters everywhere (STYLE §8).
    const auto counts = comm.allgather_value<int64_t>(static_cast<int64_t>(numels.size()));
    for (int r = 0; r < comm.size(); ++r) {
        HEPGNN_CHECK(counts[r] == counts[0],
                     "rank {} has {} parameter tensors but rank 0 has {}: the ranks built "
                     "different models (same config on every rank?)",
                     r, counts[r], counts[0]);
    }
    std::vector<int64_t> root = numels;
    comm.broadcast(root.data(), root.size(), 0);
    std::string mismatch;
    for (size_t p = 0; p < numels.size() && mismatch.empty(); ++p) {
        if (root[p] != numels[p])
            mismatch = fmt::format("parameter {} has {} elements here but {} on rank 0", p,
                                   numels[p], root[p]);
    }
    comm.throw_if_any_failed(mismatch.empty() ? ""
                                              : mismatch + ": the ranks built different models");

    plan_ = BucketPlan::build(numels, static_cast<size_t>(config.bucket_mb * 1e6),
                              static_cast<size_t>(config.first_bucket_mb * 1e6));
    marked_.assign(numels.size(), 0);
    pending_.assign(plan_.members.size(), 0);
    thread_ = std::thread([this] { run(); });
}

GradientReducer::~GradientReducer() {
    bool stuck = false;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
        stuck = in_collective_;
    }
    cv_.notify_all();
    // A thread still inside a collective (finish() timed out) may never come
    // back: joining it would hang the process. It is left to the process's
    // end; the communicator's deadline ends the job (Note [Collective deadlines]).
    if (stuck)
        thread_.detach();
    else if (thread_.joinable())
        thread_.join();
}

void GradientReducer::attach_buffers(std::vector<float*> buffers) {
    HEPGNN_INTERNAL_CHECK(buffers.size() == plan_.members.size(), "{} buffers for {} buckets",
                          buffers.size(), plan_.members.size());
    std::lock_guard<std::mutex> lock(mutex_);
    buffers_ = std::move(buffers);
}

void GradientReducer::begin_step() {
    std::lock_guard<std::mutex> lock(mutex_);
    HEPGNN_INTERNAL_CHECK(!active_, "begin_step before the previous step finished");
    HEPGNN_INTERNAL_CHECK(!buffers_.empty() || plan_.members.empty(), "no bucket buffers");
    for (size_t b = 0; b < pending_.size(); ++b)
        pending_[b] = static_cast<int>(plan_.members[b].size());
    std::fill(marked_.begin(), marked_.end(), 0);
    next_launch_ = 0;
    reduced_ = 0;
    active_ = true;
    step_start_ = std::chrono::steady_clock::now();
    launch_offsets_.assign(plan_.members.size(), -1.0);
}

std::vector<double> GradientReducer::launch_offsets() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return launch_offsets_;
}

void GradientReducer::mark_ready(int param) {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        HEPGNN_INTERNAL_CHECK(active_, "mark_ready({}) outside a step", param);
        HEPGNN_INTERNAL_CHECK(!marked_[param],
                              "parameter {} got two gradients in one step (used by two "
                              "backward passes?)",
                              param);
        marked_[param] = 1;
        pending_[plan_.slots[param].bucket] -= 1;
    }
    cv_.notify_all();
}

void GradientReducer::finish(const std::function<void(int)>& fill_missing) {
    std::vector<int> missing;
    {
        std::lock_guard<std::mutex> lock(mutex_);
        for (size_t p = 0; p < marked_.size(); ++p)
            if (!marked_[p]) missing.push_back(static_cast<int>(p));
    }
    for (int p : missing) {
        fill_missing(p);
        mark_ready(p);
    }
    const auto start = std::chrono::steady_clock::now();
    std::unique_lock<std::mutex> lock(mutex_);
    const bool done = cv_.wait_for(lock, std::chrono::duration<double>(config_.timeout_s), [&] {
        return reduced_ == static_cast<int>(plan_.members.size()) || !error_.empty();
    });
    wait_seconds_ +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    active_ = false;
    HEPGNN_CHECK(error_.empty(), "gradient allreduce failed: {}", error_);
    HEPGNN_CHECK(done,
                 "gradient allreduce did not finish within {:.0f} s (bucket {} of {}): another "
                 "rank is dead or stuck; check the other ranks' logs",
                 config_.timeout_s, next_launch_, plan_.members.size());
}

void GradientReducer::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        cv_.wait(lock, [&] {
            return stop_ ||
                   (active_ && error_.empty() && next_launch_ < static_cast<int>(pending_.size()) &&
                    pending_[next_launch_] == 0);
        });
        if (stop_) return;
        const int b = next_launch_++;
        float* data = buffers_[b];
        const auto n = static_cast<size_t>(plan_.bucket_numel[b]);
        in_collective_ = true;
        launch_offsets_[b] =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start_).count();
        lock.unlock();
        std::string error;
        try {
            device_.allreduce(data, n, ReduceOp::kSum);
        } catch (const std::exception& e) {
            error = e.what();
        }
        lock.lock();
        in_collective_ = false;
        if (!error.empty()) error_ = error;
        reduced_ += 1;
        cv_.notify_all();
    }
}

}  // namespace hepgnn::comm
