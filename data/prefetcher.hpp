// Decompresses the next training step's graphs on a background thread while
// the current step computes (double buffering), so a rank's blosc store
// (data/compressed_store.hpp) costs memory, not step time.
//
//     Prefetcher prefetch(store);
//     prefetch.schedule(plan);                  // graph indices per step
//     for (size_t k = 0; k < plan.size(); ++k) {
//         std::vector<EventGraph> graphs = prefetch.next();  // step k, in plan order
//         ...                                   // meanwhile step k+1 decompresses
//     }
//
// Note [Prefetch buffering]: the thread decompresses at most `depth` steps
// ahead of the one the caller holds and then waits for next() to take one, so
// with depth 1 at most two steps are decompressed at any time: the caller's and
// the next. An exception on the thread (a corrupt buffer, bad_alloc) belongs
// to the step it was decompressing: next() returns the steps before it and
// then rethrows it, on every call until the next schedule().
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#include "data/compressed_store.hpp"
#include "data/event_graph.hpp"

namespace hepgnn::data {

class Prefetcher {
public:
    struct Config {
        /// Steps decompressed ahead of the one the caller holds (Note
        /// [Prefetch buffering]); 1 is double buffering.
        int depth = 1;
    };

    /// Starts the background thread. `store` must outlive the Prefetcher and
    /// must not change (no add()) while it exists.
    explicit Prefetcher(const CompressedGraphStore& store);
    Prefetcher(const CompressedGraphStore& store, Config config);
    /// Stops and joins the thread, also in the middle of a plan.
    ~Prefetcher();
    Prefetcher(const Prefetcher&) = delete;
    Prefetcher& operator=(const Prefetcher&) = delete;

    /// Replaces the plan (graph indices per step, e.g. one epoch) and starts
    /// decompressing its first step. Steps of the previous plan not yet taken
    /// are dropped. Indices outside the store are a bug (InternalError).
    void schedule(std::vector<std::vector<int64_t>> steps);

    /// The next step's graphs in plan order; blocks until they are ready.
    /// Rethrows an exception of the background thread (Note [Prefetch
    /// buffering]). Calling it past the end of the plan is a bug.
    std::vector<EventGraph> next();

    /// Steps of the plan not yet returned by next().
    int64_t remaining() const;
    /// Decompressed steps waiting for next() (at most Config::depth).
    int64_t buffered_steps() const;
    /// Total seconds next() blocked since construction: near 0 when
    /// decompression is hidden behind the caller's work.
    double wait_seconds() const;
    /// Total seconds the thread spent decompressing since construction.
    double decompress_seconds() const;

private:
    void run();  // the thread's loop

    const CompressedGraphStore& store_;
    const Config cfg_;

    mutable std::mutex mutex_;
    std::condition_variable work_cv_;   // the thread waits here for room or a plan
    std::condition_variable ready_cv_;  // next() waits here for a step or an error
    // All below are guarded by mutex_.
    std::vector<std::vector<int64_t>> steps_;
    uint64_t generation_ = 0;  // incremented by schedule(); stale results are dropped
    size_t produced_ = 0;      // steps of the plan decompressed (or failed)
    size_t consumed_ = 0;      // steps of the plan returned by next()
    std::deque<std::vector<EventGraph>> ready_;  // steps consumed_, consumed_+1, ...
    std::exception_ptr error_;                   // of step consumed_ + ready_.size()
    bool stop_ = false;
    double wait_seconds_ = 0;
    double decompress_seconds_ = 0;

    std::thread thread_;  // last: starts after everything above exists
};

}  // namespace hepgnn::data
