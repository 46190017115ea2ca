// Per-stage wall-clock accounting with a scoped timer (STYLE §12): a step's
// stages (data wait, forward, backward, allreduce wait, optimizer) each add
// their seconds to a named slot.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace hepgnn {

class StageTimes {
public:
    void add(const std::string& stage, double seconds) { seconds_[stage] += seconds; }
    double get(const std::string& stage) const {
        auto it = seconds_.find(stage);
        return it == seconds_.end() ? 0.0 : it->second;
    }
    const std::map<std::string, double>& all() const { return seconds_; }
    void clear() { seconds_.clear(); }

private:
    std::map<std::string, double> seconds_;
};

/// Adds the seconds of its lifetime to `times[stage]`.
class ScopedStage {
public:
    ScopedStage(StageTimes& times, std::string stage)
        : times_(times), stage_(std::move(stage)), start_(std::chrono::steady_clock::now()) {}
    ~ScopedStage() {
        times_.add(
            stage_,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count());
    }
    ScopedStage(const ScopedStage&) = delete;
    ScopedStage& operator=(const ScopedStage&) = delete;

private:
    StageTimes& times_;
    std::string stage_;
    std::chrono::steady_clock::time_point start_;
};

/// Seconds since construction.
class Stopwatch {
public:
    Stopwatch() : start_(std::chrono::steady_clock::now()) {}
    double seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }

private:
    std::chrono::steady_clock::time_point start_;
};

}  // namespace hepgnn
