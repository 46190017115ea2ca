// Reading text inputs (CSV tables, submissions) whole, and the small string
// helpers their parsers and error messages share.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace hepgnn {

/// The whole file, read with one fread into a buffer sized from the file
/// (then whatever the size did not announce: a growing file, a pipe).
/// `what` names the input in errors ("submission" -> "cannot open submission
/// 'f.csv': ..."); empty for just the path. Throws hepgnn::Error.
std::string read_text_file(const std::filesystem::path& path, std::string_view what = {});

/// `s` without leading and trailing blanks (and a trailing '\r').
std::string_view trim_blanks(std::string_view s);

/// `text`, cut to `max` characters, so a garbage line does not flood a message,
/// with control characters escaped (one_line in core/error.hpp).
std::string shorten_for_message(std::string_view text, size_t max = 60);

}  // namespace hepgnn
