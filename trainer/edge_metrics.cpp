#include "trainer/edge_metrics.hpp"

#include <algorithm>
#include <cmath>

#include "comm/communicator.hpp"

namespace hepgnn::trainer {

EdgeMetrics::EdgeMetrics() : hist_true_(kBins, 0.0), hist_fake_(kBins, 0.0) {}

void EdgeMetrics::add(const float* scores, const uint8_t* labels, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
        const int b = std::clamp(static_cast<int>(scores[i] * kBins), 0, kBins - 1);
        if (labels[i]) {
            hist_true_[b] += 1;
            ++n_true_;
        } else {
            hist_fake_[b] += 1;
            ++n_fake_;
        }
    }
}

void EdgeMetrics::add_loss(double loss_sum, int64_t n_edges) {
    loss_sum_ += loss_sum;
    loss_edges_ += n_edges;
}

void EdgeMetrics::allreduce(comm::Communicator& comm) {
    comm.allreduce(hist_true_.data(), hist_true_.size());
    comm.allreduce(hist_fake_.data(), hist_fake_.size());
    int64_t counts[3] = {n_true_, n_fake_, loss_edges_};
    comm.allreduce(counts, 3);
    n_true_ = counts[0];
    n_fake_ = counts[1];
    loss_edges_ = counts[2];
    loss_sum_ = comm.allreduce_value(loss_sum_);
}

// Bin b holds scores in [b/kBins, (b+1)/kBins); "score > cut" counts the bins
// from the one holding the cut upwards, so cut 0.5 counts scores >= 0.5.
int EdgeMetrics::bin_of(double cut) const {
    return std::clamp(static_cast<int>(std::ceil(cut * kBins - 1e-9)), 0, kBins);
}

double EdgeMetrics::count_above(const std::vector<double>& hist, double cut) const {
    double n = 0;
    for (int b = bin_of(cut); b < kBins; ++b) n += hist[b];
    return n;
}

double EdgeMetrics::efficiency(double cut) const {
    return n_true_ > 0 ? count_above(hist_true_, cut) / double(n_true_) : 0.0;
}

double EdgeMetrics::purity(double cut) const {
    const double tp = count_above(hist_true_, cut);
    const double all = tp + count_above(hist_fake_, cut);
    return all > 0 ? tp / all : 0.0;
}

double EdgeMetrics::auc() const {
    if (n_true_ == 0 || n_fake_ == 0) return 0.0;
    // Walk the cut from high to low; each bin adds a trapezoid (ties within a
    // bin count half, as in the Mann-Whitney statistic).
    double tp = 0, fp = 0, area = 0;
    for (int b = kBins - 1; b >= 0; --b) {
        area += hist_fake_[b] * (tp + 0.5 * hist_true_[b]);
        tp += hist_true_[b];
        fp += hist_fake_[b];
    }
    return area / (double(n_true_) * double(n_fake_));
}

std::vector<EdgeMetrics::RocPoint> EdgeMetrics::roc(int n) const {
    std::vector<RocPoint> out;
    for (int i = 0; i < n; ++i) {
        const double cut = n > 1 ? double(i) / (n - 1) : 0.5;
        out.push_back(
            {cut, n_fake_ ? count_above(hist_fake_, cut) / double(n_fake_) : 0.0, efficiency(cut)});
    }
    return out;
}

}  // namespace hepgnn::trainer
