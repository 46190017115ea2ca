#include "data/prefetcher.hpp"

#include <utility>

#include "core/error.hpp"
#include "core/stage_timer.hpp"

namespace hepgnn::data {

Prefetcher::Prefetcher(const CompressedGraphStore& store) : Prefetcher(store, Config{}) {}

Prefetcher::Prefetcher(const CompressedGraphStore& store, Config config)
    : store_(store), cfg_(config) {
    HEPGNN_INTERNAL_CHECK(cfg_.depth >= 1, "Prefetcher depth {} must be at least 1", cfg_.depth);
    thread_ = std::thread([this] { run(); });
}

Prefetcher::~Prefetcher() {
    {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
    }
    work_cv_.notify_all();
    thread_.join();
}

void Prefetcher::schedule(std::vector<std::vector<int64_t>> steps) {
    for (size_t k = 0; k < steps.size(); ++k)
        for (int64_t i : steps[k])
            HEPGNN_INTERNAL_CHECK(i >= 0 && i < store_.size(),
                                  "step {} of the plan names graph {}, but the store holds {}", k,
                                  i, store_.size());
    std::deque<std::vector<EventGraph>> dropped;  // freed outside the lock
    {
        std::lock_guard<std::mutex> lock(mutex_);
        steps_ = std::move(steps);
        ++generation_;
        produced_ = consumed_ = 0;
        dropped.swap(ready_);
        error_ = nullptr;
    }
    work_cv_.notify_all();
}

std::vector<EventGraph> Prefetcher::next() {
    std::unique_lock<std::mutex> lock(mutex_);
    HEPGNN_INTERNAL_CHECK(consumed_ < steps_.size(),
                          "Prefetcher::next() called for step {} of a plan of {} steps", consumed_,
                          steps_.size());
    const Stopwatch waited;
    ready_cv_.wait(lock, [&] { return !ready_.empty() || error_; });
    wait_seconds_ += waited.seconds();
    if (ready_.empty()) std::rethrow_exception(error_);  // this step failed
    std::vector<EventGraph> step = std::move(ready_.front());
    ready_.pop_front();
    ++consumed_;
    lock.unlock();
    work_cv_.notify_all();  // room for one more step
    return step;
}

// The thread decompresses the plan's steps in order, each only when fewer
// than `depth` steps wait for next() (Note [Prefetch buffering]). It holds the
// lock only to pick work and to hand over results, and checks between graphs
// whether it should stop or whether schedule() replaced the plan, so neither
// the destructor nor a new plan waits for a whole stale step.
void Prefetcher::run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
        work_cv_.wait(lock, [&] {
            return stop_ || (!error_ && produced_ < steps_.size() &&
                             ready_.size() < static_cast<size_t>(cfg_.depth));
        });
        if (stop_) return;
        const uint64_t generation = generation_;
        std::vector<int64_t> ids;
        std::exception_ptr error;
        try {
            ids = steps_[produced_];  // a copy: schedule() may replace steps_ meanwhile
        } catch (...) {
            error = std::current_exception();
        }
        lock.unlock();

        std::vector<EventGraph> graphs;
        bool abandoned = false;
        const Stopwatch busy;
        try {
            graphs.reserve(ids.size());
            for (size_t k = 0; k < ids.size() && !error; ++k) {
                {
                    std::lock_guard<std::mutex> check(mutex_);
                    abandoned = stop_ || generation_ != generation;
                }
                if (abandoned) break;
                graphs.push_back(store_.get(ids[k]));
            }
        } catch (...) {
            error = std::current_exception();
        }
        const double seconds = busy.seconds();

        lock.lock();
        decompress_seconds_ += seconds;
        if (stop_) return;
        if (abandoned || generation_ != generation) continue;  // the plan was replaced
        if (!error) {
            try {
                ready_.push_back(std::move(graphs));
            } catch (...) {
                error = std::current_exception();
            }
        }
        if (error) error_ = error;
        ++produced_;
        ready_cv_.notify_all();
    }
}

int64_t Prefetcher::remaining() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int64_t>(steps_.size() - consumed_);
}

int64_t Prefetcher::buffered_steps() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<int64_t>(ready_.size());
}

double Prefetcher::wait_seconds() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return wait_seconds_;
}

double Prefetcher::decompress_seconds() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return decompress_seconds_;
}

}  // namespace hepgnn::data
