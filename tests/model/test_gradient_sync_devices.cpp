// Note [Host and device collectives] (comm/gradient_reducer.hpp), tested
// without a GPU: the communicator GradientSync gets as its device one is a
// strict double that accepts only buffers inside the bucket tensors it was
// told about, as NCCL accepts only device memory. Host-memory collectives
// handed to it (the set-up's checks, a scalar, a barrier) are violations.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <mutex>

#include "comm/communicator.hpp"
#include "model_test_util.hpp"
#include "models/gnn_model.hpp"
#include "trainer/gradient_sync.hpp"

namespace hepgnn::trainer {
namespace {

class StrictDeviceCommunicator final : public comm::Communicator {
public:
    explicit StrictDeviceCommunicator(comm::Communicator& inner) : inner_(inner) {}

    void allow(const torch::Tensor& buffer) {
        std::lock_guard<std::mutex> lock(mutex_);
        allowed_.push_back({static_cast<const char*>(buffer.data_ptr()), buffer.nbytes()});
    }
    std::vector<std::string> violations() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return violations_;
    }
    int calls() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return calls_;
    }

    int rank() const override { return inner_.rank(); }
    int size() const override { return inner_.size(); }
    std::string backend() const override { return "strict-device"; }
    void allreduce(void* data, size_t count, comm::DataType type, comm::ReduceOp op) override {
        check("allreduce", data, count * comm::element_size(type));
        inner_.allreduce(data, count, type, op);
    }
    void broadcast(void* data, size_t count, comm::DataType type, int root) override {
        check("broadcast", data, count * comm::element_size(type));
        inner_.broadcast(data, count, type, root);
    }
    void allgather(const void* send, void* recv, size_t count, comm::DataType type) override {
        check("allgather send", send, count * comm::element_size(type));
        check("allgather recv", recv, count * comm::element_size(type) * size());
        inner_.allgather(send, recv, count, type);
    }
    void barrier() override { check("barrier", nullptr, 1); }

private:
    // Called from the reducer's communication thread too: records, never throws.
    void check(const char* what, const void* data, size_t bytes) {
        std::lock_guard<std::mutex> lock(mutex_);
        ++calls_;
        const auto* p = static_cast<const char*>(data);
        for (const auto& [begin, n] : allowed_)
            if (p && p >= begin && p + bytes <= begin + n) return;
        violations_.push_back(std::string(what) + " of " + std::to_string(bytes) +
                              " bytes outside every bucket buffer");
    }

    comm::Communicator& inner_;
    mutable std::mutex mutex_;
    std::vector<std::pair<const char*, size_t>> allowed_;
    std::vector<std::string> violations_;
    int calls_ = 0;
};

std::shared_ptr<models::GnnModel> small_model() {
    models::ModelConfig c;
    c.hidden_dim = 8;
    c.n_graph_iters = 2;
    torch::manual_seed(3);
    return models::make_model(c);
}

comm::GradientReducer::Config small_buckets() {
    comm::GradientReducer::Config c;
    c.bucket_mb = 0.002;  // ~500 floats: several buckets for this model
    c.first_bucket_mb = 0.001;
    return c;
}

TEST(GradientSyncDevices, TheDeviceCommunicatorSeesOnlyBucketBuffers) {
    auto host = comm::make_local_communicator();
    auto inner = comm::make_local_communicator();
    StrictDeviceCommunicator device(*inner);
    auto model = small_model();
    GradientSync sync(*host, device, model->parameters(), small_buckets());
    EXPECT_EQ(device.calls(), 0) << "set-up collectives went to the device communicator";
    ASSERT_GE(sync.num_buckets(), 3u);
    for (const auto& b : sync.buckets()) device.allow(b);

    const auto graph = models::testing::random_graph(40, 120, 5);
    // The reference: plain autograd on an identical model without hooks.
    auto reference = small_model();
    reference->forward(graph).sum().backward();
    std::vector<torch::Tensor> want;
    for (const auto& p : reference->parameters()) want.push_back(p.grad().clone());

    sync.begin_step();
    model->forward(graph).sum().backward();
    sync.finish();
    EXPECT_EQ(device.violations(), std::vector<std::string>{});
    EXPECT_EQ(device.calls(), static_cast<int>(sync.num_buckets()));
    const auto params = model->parameters();
    for (size_t i = 0; i < params.size(); ++i)
        EXPECT_TRUE(models::testing::bit_identical(params[i].grad(), want[i])) << "parameter " << i;
}

// The double catches what it is for: the set-up's host-memory collectives,
// were they sent to the device communicator, as before the split.
TEST(GradientSyncDevices, HostCollectivesOnTheDeviceCommunicatorAreCaught) {
    auto inner = comm::make_local_communicator();
    StrictDeviceCommunicator device(*inner);
    auto model = small_model();
    GradientSync sync(device, device, model->parameters(), small_buckets());
    const auto v = device.violations();
    ASSERT_FALSE(v.empty());
    EXPECT_NE(v.front().find("outside every bucket buffer"), std::string::npos) << v.front();
}

}  // namespace
}  // namespace hepgnn::trainer
