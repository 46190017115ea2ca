#include "core/progress.hpp"

#include <exception>

#include <unistd.h>

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

namespace hepgnn {

std::string format_duration(double s) {
    if (!std::isfinite(s) || s < 0) return "?";
    if (s < 60) return fmt::format("{:.1f}s", s);
    const auto total = static_cast<long>(s);
    if (total < 3600) return fmt::format("{}m{:02d}s", total / 60, static_cast<int>(total % 60));
    return fmt::format("{}h{:02d}m", total / 3600, static_cast<int>((total % 3600) / 60));
}

Progress::Config Progress::config_for(std::FILE* stream, bool enabled, std::string unit) {
    Config c;
    c.interactive = ::isatty(::fileno(stream)) != 0;
    c.enabled = enabled;
    c.unit = std::move(unit);
    return c;
}

Progress::Progress(std::string label, int64_t total, Config config, std::FILE* stream)
    : label_(std::move(label)), total_(total), config_(std::move(config)), stream_(stream) {
    start_ = last_draw_ = std::chrono::steady_clock::now();
    exceptions_at_start_ = std::uncaught_exceptions();
}

Progress::~Progress() {
    // Unwinding after an error: no "done" line, so the error stays the one
    // line a user reads.
    if (!finished_ && std::uncaught_exceptions() == exceptions_at_start_) finish();
}

void Progress::update(int64_t done, const std::string& status) {
    done_ = done;
    status_ = status;
    if (!config_.enabled) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_draw_).count();
    if (config_.interactive ? since >= 0.1 : since >= config_.log_interval_s) {
        last_draw_ = now;
        draw(false);
    }
}

void Progress::finish(const std::string& status) {
    if (finished_) return;
    finished_ = true;
    if (!status.empty()) status_ = status;
    if (config_.enabled) draw(true);
}

void Progress::draw(bool final_line) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const double rate = elapsed > 0 ? done_ / elapsed : 0.0;
    const double eta = rate > 0 && total_ > 0 ? (total_ - done_) / rate : NAN;
    const double frac = total_ > 0 ? std::clamp(double(done_) / total_, 0.0, 1.0) : 0.0;
    std::string line;
    if (config_.interactive) {
        constexpr int kWidth = 28;
        const int fill = static_cast<int>(frac * kWidth);
        line = fmt::format("\r{} [{}{}] {}/{} {:.1f} {}/s {} {}", label_, std::string(fill, '#'),
                           std::string(kWidth - fill, '.'), done_, total_, rate, config_.unit,
                           final_line ? format_duration(elapsed) : "ETA " + format_duration(eta),
                           status_);
        line += "\x1b[K";  // clear the rest of the previous, longer line
        if (final_line) line += "\n";
    } else {
        line = fmt::format("{}: {}/{} ({:.0f}%) {:.1f} {}/s elapsed {} {}{}\n", label_, done_,
                           total_, 100 * frac, rate, config_.unit, format_duration(elapsed),
                           final_line ? "done" : "ETA " + format_duration(eta),
                           status_.empty() ? "" : " " + status_);
    }
    std::fputs(line.c_str(), stream_);
    std::fflush(stream_);
}

}  // namespace hepgnn
