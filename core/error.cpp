#include "core/error.hpp"

namespace hepgnn {

void throw_internal_error(const char* file, int line, const char* condition,
                          const std::string& detail) {
    throw InternalError(fmt::format(
        "bug in hepgnn: {} ({}:{}: check '{}' failed); please report it with the command line",
        detail, file, line, condition));
}

}  // namespace hepgnn
