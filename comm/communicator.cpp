#include "comm/communicator.hpp"

#include <cstring>

#include "core/error.hpp"

namespace hepgnn::comm {

size_t element_size(DataType type) {
    switch (type) {
        case DataType::kFloat32:
            return 4;
        case DataType::kFloat64:
            return 8;
        case DataType::kInt32:
            return 4;
        case DataType::kInt64:
            return 8;
        case DataType::kUInt8:
            return 1;
    }
    HEPGNN_INTERNAL_CHECK(false, "unknown DataType {}", static_cast<int>(type));
    return 0;
}

const char* to_string(DataType type) {
    switch (type) {
        case DataType::kFloat32:
            return "float32";
        case DataType::kFloat64:
            return "float64";
        case DataType::kInt32:
            return "int32";
        case DataType::kInt64:
            return "int64";
        case DataType::kUInt8:
            return "uint8";
    }
    return "unknown";
}

std::string Communicator::broadcast_string(const std::string& value, int root) {
    int64_t length = static_cast<int64_t>(value.size());
    broadcast(&length, 1, root);
    std::string out = rank() == root ? value : std::string(static_cast<size_t>(length), '\0');
    if (length > 0) broadcast(reinterpret_cast<uint8_t*>(out.data()), out.size(), root);
    return out;
}

std::string Communicator::agree_on_error(const std::string& my_error) {
    const int32_t failed = my_error.empty() ? 0 : 1;
    const auto flags = allgather_value(failed);
    for (int r = 0; r < size(); ++r) {
        if (flags[static_cast<size_t>(r)]) {
            const std::string message = broadcast_string(my_error, r);
            return size() > 1 ? "rank " + std::to_string(r) + ": " + message : message;
        }
    }
    return "";
}

void Communicator::throw_if_any_failed(const std::string& my_error) {
    const std::string agreed = agree_on_error(my_error);
    if (!agreed.empty()) throw CollectiveError(agreed);
}

namespace {

class LocalCommunicator final : public Communicator {
public:
    int rank() const override { return 0; }
    int size() const override { return 1; }
    std::string backend() const override { return "local"; }
    void allreduce(void*, size_t, DataType, ReduceOp) override {}
    void broadcast(void*, size_t, DataType, int root) override {
        HEPGNN_INTERNAL_CHECK(root == 0, "broadcast root {} on a 1-rank communicator", root);
    }
    void allgather(const void* send, void* recv, size_t count, DataType type) override {
        if (count > 0) std::memcpy(recv, send, count * element_size(type));
    }
    void barrier() override {}
};

}  // namespace

std::unique_ptr<Communicator> make_local_communicator() {
    return std::make_unique<LocalCommunicator>();
}

}  // namespace hepgnn::comm
