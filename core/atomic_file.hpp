// Atomic replacement of a file: write to a temporary name in the same folder,
// fsync it, rename it over the target, fsync the folder. A crash, a full disk
// or any other error at any point leaves either the old complete file or the
// new complete file under the final name, never a part of one.
#pragma once

#include <filesystem>
#include <functional>
#include <string_view>

namespace hepgnn {

/// Writes `bytes` as the whole new content of `path`, atomically. `what` names
/// the file in errors ("checkpoint" -> "cannot write checkpoint 'f': No space
/// left on device ..."). Throws hepgnn::Error; `path` is then untouched.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes,
                           std::string_view what);

/// For writers that need a file name (HDF5, torch): calls `write(tmp_path)`,
/// then publishes the result at `path`. If `write` throws, the temporary file
/// is removed and `path` is untouched.
void replace_file_atomically(const std::filesystem::path& path,
                             const std::function<void(const std::filesystem::path&)>& write,
                             std::string_view what = "file");

/// The temporary name beside `path` that the writers above use.
std::filesystem::path temporary_path_for(const std::filesystem::path& path);

/// Makes the complete file `tmp` appear at `path`: fsync, rename, fsync of the
/// folder. On failure `tmp` is removed and `path` is untouched.
void publish_file(const std::filesystem::path& tmp, const std::filesystem::path& path,
                  std::string_view what);

}  // namespace hepgnn
