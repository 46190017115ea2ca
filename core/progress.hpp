// Progress of long work: a redrawn bar with rate and ETA on a terminal, plain
// periodic lines in batch logs (no carriage returns to clutter SLURM output).
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace hepgnn {

class Progress {
public:
    struct Config {
        bool interactive = false;      // redraw one line (a terminal) or print lines (a log)
        double log_interval_s = 10.0;  // seconds between plain lines
        bool enabled = true;           // e.g. false on ranks other than 0
        std::string unit = "items";    // what is counted, for the rate
    };

    /// Interactive when `stream` is a terminal.
    static Config config_for(std::FILE* stream, bool enabled, std::string unit);

    Progress(std::string label, int64_t total, Config config, std::FILE* stream = stderr);
    ~Progress();
    Progress(const Progress&) = delete;
    Progress& operator=(const Progress&) = delete;

    /// Sets the count of finished items and an optional status text ("loss 0.12").
    void update(int64_t done, const std::string& status = "");
    /// Prints the final line (also done by the destructor).
    void finish(const std::string& status = "");

private:
    void draw(bool final_line);
    std::string label_;
    int64_t total_;
    int64_t done_ = 0;
    std::string status_;
    Config config_;
    std::FILE* stream_;
    std::chrono::steady_clock::time_point start_, last_draw_;
    bool finished_ = false;
    int exceptions_at_start_ = 0;
};

/// "1h02m", "3m07s", "12.3s".
std::string format_duration(double seconds);

}  // namespace hepgnn
