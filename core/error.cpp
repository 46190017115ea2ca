#include "core/error.hpp"

namespace hepgnn {

std::string one_line(const std::string& message) {
    std::string out;
    out.reserve(message.size());
    for (const char c : message) {
        const auto u = static_cast<unsigned char>(c);
        if (c == '\n') {
            out += "\\n";
        } else if ((u < 0x20 && c != '\t') || u == 0x7f) {
            out += fmt::format("\\x{:02x}", u);
        } else {
            out += c;
        }
    }
    return out;
}

void throw_internal_error(const char* file, int line, const char* condition,
                          const std::string& detail) {
    throw InternalError(fmt::format(
        "bug in hepgnn: {} ({}:{}: check '{}' failed); please report it with the command line",
        detail, file, line, condition));
}

}  // namespace hepgnn
