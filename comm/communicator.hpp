// The communicator every distributed piece of hepgnn talks to: rank, size and
// the four collectives it needs, on plain buffers (no torch here). Back-ends:
// MPI (CPUs), NCCL (GPUs), and an in-process one for unit tests and
// single-process runs. Collectives are blocking; asynchrony lives in the
// gradient reducer's communication thread, which owns all calls.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace hepgnn::comm {

enum class DataType { kFloat32, kFloat64, kInt32, kInt64, kUInt8 };
enum class ReduceOp { kSum, kMax, kMin };

size_t element_size(DataType type);
const char* to_string(DataType type);

template <typename T>
constexpr DataType data_type_of();
template <>
constexpr DataType data_type_of<float>() {
    return DataType::kFloat32;
}
template <>
constexpr DataType data_type_of<double>() {
    return DataType::kFloat64;
}
template <>
constexpr DataType data_type_of<int32_t>() {
    return DataType::kInt32;
}
template <>
constexpr DataType data_type_of<int64_t>() {
    return DataType::kInt64;
}
template <>
constexpr DataType data_type_of<uint8_t>() {
    return DataType::kUInt8;
}

/// Note [Collective deadlines]: how long a collective may wait for the other
/// ranks. A rank that stops (SIGSTOP, a stuck file system, a cut link) would
/// otherwise hold every other rank inside the collective forever.
struct Deadlines {
    double timeout_s = 300;       // then every rank that sees it ends the job, naming the absent
    double stall_warning_s = 60;  // then a stall report names the ranks not yet arrived
};

class Communicator {
public:
    virtual ~Communicator() = default;

    /// Applies to every later collective. Back-ends whose collectives cannot
    /// hang (the local one) ignore it.
    virtual void set_deadlines(const Deadlines& deadlines) { (void)deadlines; }

    virtual int rank() const = 0;
    virtual int size() const = 0;
    virtual std::string backend() const = 0;

    /// In place: every rank ends with op over all ranks' `data`.
    virtual void allreduce(void* data, size_t count, DataType type, ReduceOp op) = 0;
    /// In place: every rank ends with root's `data`.
    virtual void broadcast(void* data, size_t count, DataType type, int root) = 0;
    /// `recv` holds size() * count elements, rank r's `send` at r * count.
    virtual void allgather(const void* send, void* recv, size_t count, DataType type) = 0;
    virtual void barrier() = 0;

    // Typed conveniences.
    template <typename T>
    void allreduce(T* data, size_t count, ReduceOp op = ReduceOp::kSum) {
        allreduce(static_cast<void*>(data), count, data_type_of<T>(), op);
    }
    template <typename T>
    T allreduce_value(T value, ReduceOp op = ReduceOp::kSum) {
        allreduce(&value, 1, op);
        return value;
    }
    template <typename T>
    void broadcast(T* data, size_t count, int root = 0) {
        broadcast(static_cast<void*>(data), count, data_type_of<T>(), root);
    }
    template <typename T>
    std::vector<T> allgather_value(T value) {
        std::vector<T> out(static_cast<size_t>(size()));
        allgather(&value, out.data(), 1, data_type_of<T>());
        return out;
    }

    /// Broadcasts a string from root (length first, then bytes).
    std::string broadcast_string(const std::string& value, int root = 0);

    /// Collective error agreement: every rank passes its own error message
    /// (empty when it succeeded). Returns "" when all succeeded, otherwise
    /// "rank R: message" of the lowest failing rank, on every rank, so all
    /// ranks stop together and report the cause instead of hanging.
    std::string agree_on_error(const std::string& my_error);
    /// agree_on_error, then throws hepgnn::CollectiveError with the agreed
    /// message on every rank if any rank failed.
    void throw_if_any_failed(const std::string& my_error);
    /// Runs `fn` and agrees on its outcome: if it throws hepgnn::Error on any
    /// rank, every rank throws CollectiveError with the failing rank's message.
    template <typename Fn>
    void collectively(Fn&& fn);
};

template <typename Fn>
void Communicator::collectively(Fn&& fn) {
    std::string error;
    try {
        fn();
    } catch (const std::exception& e) {
        error = e.what();
        if (error.empty()) error = "unknown error";
    }
    throw_if_any_failed(error);
}

/// A single-process communicator: collectives are copies.
std::unique_ptr<Communicator> make_local_communicator();

}  // namespace hepgnn::comm
