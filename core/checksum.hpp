// CRC-32 (the zlib / PNG / gzip polynomial), so a stored checksum can be
// checked with any standard tool, e.g. Python's zlib.crc32.
#pragma once

#include <cstdint>
#include <string_view>

namespace hepgnn {

/// CRC-32 of `bytes`, continuing from `crc` (0 to start).
uint32_t crc32(std::string_view bytes, uint32_t crc = 0);

}  // namespace hepgnn
