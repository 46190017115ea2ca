#include "trainer/metrics_log.hpp"

#include "core/error.hpp"

namespace hepgnn::trainer {

MetricsLog::MetricsLog(const std::filesystem::path& path, bool append) {
    file_ = std::fopen(path.c_str(), append ? "a" : "w");
    HEPGNN_CHECK(file_ != nullptr, "cannot open '{}' for writing", path.string());
}

MetricsLog::~MetricsLog() {
    if (file_) std::fclose(file_);
}

void MetricsLog::write(const nlohmann::json& line) {
    if (!file_) return;
    const std::string text = line.dump() + "\n";
    std::fputs(text.c_str(), file_);
    std::fflush(file_);
}

}  // namespace hepgnn::trainer
