#include "trainer/gradient_sync.hpp"

#include <torch/torch.h>

namespace hepgnn::trainer {

GradientSync::GradientSync(comm::Communicator& host, comm::Communicator& device,
                           std::vector<torch::Tensor> params, comm::GradientReducer::Config config)
    : params_(std::move(params)) {
    std::vector<int64_t> numels;
    for (const auto& p : params_) numels.push_back(p.numel());
    reducer_ = std::make_unique<comm::GradientReducer>(host, device, numels, config);
    const auto& plan = reducer_->plan();
    const auto options = params_.empty() ? torch::TensorOptions(torch::kFloat32)
                                         : params_[0].options().requires_grad(false);
    std::vector<float*> ptrs;
    for (int64_t n : plan.bucket_numel) {
        buckets_.push_back(torch::zeros({n}, options));
        ptrs.push_back(buckets_.back().data_ptr<float>());
    }
    reducer_->attach_buffers(ptrs);
    for (size_t i = 0; i < params_.size(); ++i) {
        const auto slot = plan.slots[i];
        views_.push_back(
            buckets_[slot.bucket].narrow(0, slot.offset, slot.numel).view(params_[i].sizes()));
        // The hook sees the gradient before it is accumulated into .grad; each
        // parameter's hook runs once per backward (autograd sums the uses of
        // weights shared across iterations first).
        const int index = static_cast<int>(i);
        params_[i].register_hook([this, index](torch::Tensor grad) {
            views_[index].copy_(grad);
            reducer_->mark_ready(index);
        });
    }
}

void GradientSync::begin_step() {
    reducer_->begin_step();
}

void GradientSync::finish() {
    reducer_->finish([this](int p) { views_[p].zero_(); });
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
        auto& g = params_[i].mutable_grad();
        if (!g.defined())
            g = views_[i].clone();
        else
            g.copy_(views_[i]);
    }
}

}  // namespace hepgnn::trainer
