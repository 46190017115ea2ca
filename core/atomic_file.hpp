// Atomic replacement of a file: write to a temporary name in the same folder,
// fsync it, rename it over the target, fsync the folder. A crash at any point
// leaves either the old complete file or the new complete file.
#pragma once

#include <filesystem>
#include <functional>

namespace hepgnn {

/// Calls `write(tmp_path)`, then makes the result appear at `path` atomically.
/// If `write` throws, the temporary file is removed and `path` is untouched.
void replace_file_atomically(const std::filesystem::path& path,
                             const std::function<void(const std::filesystem::path&)>& write);

}  // namespace hepgnn
