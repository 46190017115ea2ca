// metrics.jsonl: one JSON object a line (DESIGN §3.5), written by rank 0 and
// flushed per line so a killed job keeps everything logged so far.
#pragma once

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

namespace hepgnn::trainer {

class MetricsLog {
public:
    MetricsLog() = default;
    /// Opens for appending (resume) or truncating (fresh run).
    MetricsLog(const std::filesystem::path& path, bool append);
    ~MetricsLog();
    MetricsLog(const MetricsLog&) = delete;
    MetricsLog& operator=(const MetricsLog&) = delete;
    void write(const nlohmann::json& line);

private:
    std::FILE* file_ = nullptr;
};

}  // namespace hepgnn::trainer
