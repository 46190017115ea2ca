// Integers out of JSON files (module maps, checkpoint metadata) without
// nlohmann's unchecked casts: get<int>() of 1e300 or of 2^40 is undefined
// behaviour, found by fuzzing the module-map reader.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string_view>

#include "core/error.hpp"
#include "core/text_file.hpp"

namespace hepgnn {

/// `value` as a T, which it must be exactly: an integer within T's range.
/// Throws hepgnn::Error naming `where` and the value otherwise.
template <typename T>
T json_integer(const nlohmann::json& value, std::string_view where) {
    static_assert(std::numeric_limits<T>::is_integer && std::numeric_limits<T>::is_signed);
    bool fits = false;
    if (value.is_number_unsigned()) {
        fits = value.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
    } else if (value.is_number_integer()) {
        const int64_t v = value.get<int64_t>();
        fits = v >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
               v <= static_cast<int64_t>(std::numeric_limits<T>::max());
    }
    HEPGNN_CHECK(fits, "{}: expected an integer of at most {} bits, got {}", where,
                 std::numeric_limits<T>::digits + 1, shorten_for_message(value.dump()));
    return static_cast<T>(value.get<int64_t>());
}

}  // namespace hepgnn
