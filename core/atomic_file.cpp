#include "core/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/error.hpp"

namespace hepgnn {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail_write(std::string_view what, const fs::path& path, int err) {
    HEPGNN_FAIL("cannot write {} '{}': {} ({}; any previous file of that name is unchanged)", what,
                path.string(), std::strerror(err),
                err == ENOSPC || err == EDQUOT ? "free some disk space"
                                               : "check the folder and its permissions");
}

void remove_quietly(const fs::path& path) {
    std::error_code ignored;
    fs::remove(path, ignored);
}

// fsync of the file (which must succeed: it is where a full disk can show up
// on file systems that allocate late) or of its folder (best effort: some file
// systems refuse to sync folders).
void sync_to_disk(const fs::path& path, bool directory, std::string_view what,
                  const fs::path& shown) {
    const int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) {
        if (directory) return;
        fail_write(what, shown, errno);
    }
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0 && !directory) fail_write(what, shown, err);
}

void create_parent_folder(const fs::path& path, std::string_view what) {
    if (!path.has_parent_path()) return;
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    if (ec) fail_write(what, path, ec.value());
}

}  // namespace

fs::path temporary_path_for(const fs::path& path) {
    fs::path tmp = path;
    tmp += ".tmp." + std::to_string(::getpid());
    return tmp;
}

void publish_file(const fs::path& tmp, const fs::path& path, std::string_view what) {
    try {
        sync_to_disk(tmp, false, what, path);
        std::error_code ec;
        fs::rename(tmp, path, ec);
        if (ec) fail_write(what, path, ec.value());
    } catch (...) {
        remove_quietly(tmp);
        throw;
    }
    sync_to_disk(path.has_parent_path() ? path.parent_path() : fs::path("."), true, what, path);
}

void replace_file_atomically(const fs::path& path,
                             const std::function<void(const fs::path&)>& write,
                             std::string_view what) {
    create_parent_folder(path, what);
    const fs::path tmp = temporary_path_for(path);
    try {
        write(tmp);
    } catch (...) {
        remove_quietly(tmp);
        throw;
    }
    publish_file(tmp, path, what);
}

void write_file_atomically(const fs::path& path, std::string_view bytes, std::string_view what) {
    replace_file_atomically(
        path,
        [&](const fs::path& tmp) {
            const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (fd < 0) fail_write(what, path, errno);
            const char* p = bytes.data();
            size_t left = bytes.size();
            while (left > 0) {
                const ssize_t n = ::write(fd, p, left);
                if (n < 0 && errno == EINTR) continue;
                if (n <= 0) {
                    const int err = n < 0 ? errno : ENOSPC;  // 0 bytes written: no room
                    ::close(fd);
                    fail_write(what, path, err);
                }
                p += n;
                left -= static_cast<size_t>(n);
            }
            if (::close(fd) != 0) fail_write(what, path, errno);
        },
        what);
}

}  // namespace hepgnn
