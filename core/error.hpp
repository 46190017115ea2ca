// Two kinds of checks (Note [Errors]):
//  * HEPGNN_CHECK(cond, fmt, args...) guards caller input (files, configs,
//    command lines). It throws hepgnn::Error whose message is the one line a
//    user sees: what is wrong, where, and what to do.
//  * HEPGNN_INTERNAL_CHECK(cond, fmt, args...) guards invariants of hepgnn
//    itself. Its message says "bug in hepgnn" and names the source line, so a
//    user knows to report it rather than fix their input.
// Neither vanishes in Release builds, unlike assert().
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace hepgnn {

/// `message` with line breaks and other control characters escaped ("\\n",
/// "\\x01"): a user error is one line whatever text (a path, a YAML key, a
/// CSV field) it quotes.
std::string one_line(const std::string& message);

/// A user-facing error: bad input, bad config, a failed resource. Its message
/// is always one line (one_line).
class Error : public std::runtime_error {
public:
    explicit Error(const std::string& message) : std::runtime_error(one_line(message)) {}
};

/// An error every rank of a job has agreed on (comm::Communicator::
/// throw_if_any_failed): each rank holds the same message, so the job can end
/// cleanly with it, without aborting the other ranks.
class CollectiveError : public Error {
public:
    explicit CollectiveError(const std::string& message) : Error(message) {}
};

/// A broken internal invariant: a bug in hepgnn, not in the user's input.
class InternalError : public std::logic_error {
public:
    explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

[[noreturn]] void throw_internal_error(const char* file, int line, const char* condition,
                                       const std::string& detail);

}  // namespace hepgnn

#define HEPGNN_CHECK(cond, ...)                                         \
    do {                                                                \
        if (!(cond)) throw ::hepgnn::Error(::fmt::format(__VA_ARGS__)); \
    } while (0)

#define HEPGNN_FAIL(...) throw ::hepgnn::Error(::fmt::format(__VA_ARGS__))

#define HEPGNN_INTERNAL_CHECK(cond, ...)                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ::hepgnn::throw_internal_error(__FILE__, __LINE__, #cond, ::fmt::format(__VA_ARGS__)); \
    } while (0)
