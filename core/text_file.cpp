#include "core/text_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/error.hpp"

namespace hepgnn {

std::string read_text_file(const std::filesystem::path& path, std::string_view what) {
    const std::string name = what.empty() ? fmt::format("'{}'", path.string())
                                          : fmt::format("{} '{}'", what, path.string());
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (file == nullptr) {
        HEPGNN_FAIL("cannot open {}: {} (check that the file exists and is readable)", name,
                    std::strerror(errno));
    }
    std::string text;
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > 0) {
        text.resize(static_cast<size_t>(size));
        text.resize(std::fread(text.data(), 1, text.size(), file));
    }
    char chunk[1 << 16];
    size_t n = 0;
    while ((n = std::fread(chunk, 1, sizeof chunk, file)) > 0) text.append(chunk, n);
    const bool failed = std::ferror(file) != 0;
    std::fclose(file);
    HEPGNN_CHECK(!failed, "cannot read {}: I/O error (check the file system)", name);
    return text;
}

std::string_view trim_blanks(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
    return s;
}

std::string shorten_for_message(std::string_view text, size_t max) {
    std::string out = one_line(std::string(text.substr(0, max)));
    if (text.size() > max) out += "...";
    return out;
}

}  // namespace hepgnn
