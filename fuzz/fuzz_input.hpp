// Shared by the fuzz targets: the bytes of one input as a file (every hepgnn
// reader takes a path, as users give it one), and the rule that decides what
// a finding is. A reader may refuse an input only with hepgnn::Error, the
// one-line user error; any other exception escapes to libFuzzer, which
// reports it like a crash (a std::out_of_range from deep inside a parser is
// exactly the unclear message the product must not give).
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

#include "core/error.hpp"

namespace hepgnn::fuzz {

/// A scratch folder for this process (in /dev/shm when it exists: no disk I/O).
inline const std::filesystem::path& scratch_dir() {
    static const std::filesystem::path dir = [] {
        const std::filesystem::path base = std::filesystem::exists("/dev/shm")
                                               ? "/dev/shm"
                                               : std::filesystem::temp_directory_path();
        auto d = base / ("hepgnn-fuzz-" + std::to_string(::getpid()));
        std::filesystem::create_directories(d);
        return d;
    }();
    return dir;
}

/// Writes `bytes` to `name` in the scratch folder and returns its path.
inline std::filesystem::path write_input(const std::string& name, std::string_view bytes) {
    const auto path = scratch_dir() / name;
    std::FILE* f = std::fopen(path.c_str(), "wb");
    if (!f) std::abort();  // the harness itself failed: not a finding in hepgnn
    if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
        std::abort();
    std::fclose(f);
    return path;
}

/// Runs `read`; a hepgnn::Error is an accepted refusal, and its message must be
/// one line (the product's error contract).
inline void expect_clean(const std::function<void()>& read) {
    try {
        read();
    } catch (const Error& e) {
        const std::string_view m = e.what();
        if (m.empty() || m.find('\n') != std::string_view::npos) {
            std::fprintf(stderr, "error message is not one line: '%s'\n", e.what());
            std::abort();
        }
    }
}

/// Splits an input at the first occurrence of `separator` (the whole input
/// and "" when absent): how one input carries two files.
inline std::pair<std::string_view, std::string_view> split_input(std::string_view in,
                                                                 std::string_view separator) {
    const size_t at = in.find(separator);
    if (at == std::string_view::npos) return {in, {}};
    return {in.substr(0, at), in.substr(at + separator.size())};
}

}  // namespace hepgnn::fuzz
