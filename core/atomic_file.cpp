#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include "core/error.hpp"

namespace hepgnn {
namespace {

void fsync_path(const std::filesystem::path& path, bool directory) {
    const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    HEPGNN_CHECK(fd >= 0, "cannot open '{}' to sync it to disk", path.string());
    const int rc = ::fsync(fd);
    ::close(fd);
    HEPGNN_CHECK(rc == 0 || directory, "cannot sync '{}' to disk (disk full or I/O error?)",
                 path.string());
}

}  // namespace

void replace_file_atomically(const std::filesystem::path& path,
                             const std::function<void(const std::filesystem::path&)>& write) {
    const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
    std::filesystem::create_directories(dir);
    auto tmp = path;
    tmp += ".tmp." + std::to_string(::getpid());
    try {
        write(tmp);
        fsync_path(tmp, false);
        std::filesystem::rename(tmp, path);
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(tmp, ec);
        throw;
    }
    fsync_path(dir, true);
}

}  // namespace hepgnn
