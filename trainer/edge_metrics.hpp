// Edge-classification metrics that can be merged across ranks: scores are
// accumulated into fixed histograms for true and fake edges, so the global
// AUC, ROC curve, efficiency and purity come from one allreduce of counts,
// not from gathering every score on rank 0.
#pragma once

#include <cstdint>
#include <vector>

namespace hepgnn::comm {
class Communicator;
}

namespace hepgnn::trainer {

class EdgeMetrics {
public:
    static constexpr int kBins = 10000;  // score resolution 1e-4: AUC error < 1e-4

    EdgeMetrics();
    /// Adds scores in [0, 1] (sigmoid of logits) with labels 0/1 and summed loss.
    void add(const float* scores, const uint8_t* labels, int64_t n);
    void add_loss(double loss_sum, int64_t n_edges);
    /// Sums the counts of all ranks into every rank's copy.
    void allreduce(comm::Communicator& comm);

    int64_t n_edges() const { return n_true_ + n_fake_; }
    int64_t n_true() const { return n_true_; }
    double mean_loss() const { return loss_edges_ > 0 ? loss_sum_ / loss_edges_ : 0.0; }
    /// Fraction of true edges with score > cut (recall).
    double efficiency(double cut) const;
    /// Fraction of edges with score > cut that are true (precision).
    double purity(double cut) const;
    /// Area under the ROC curve (trapezoids over the score bins).
    double auc() const;
    struct RocPoint {
        double cut, false_positive_rate, true_positive_rate;
    };
    /// ROC points at `n` evenly spaced cuts.
    std::vector<RocPoint> roc(int n = 101) const;
    /// Score histograms (kBins bins over [0,1]) for plots.
    const std::vector<double>& true_histogram() const { return hist_true_; }
    const std::vector<double>& fake_histogram() const { return hist_fake_; }

private:
    int bin_of(double cut) const;
    double count_above(const std::vector<double>& hist, double cut) const;
    std::vector<double> hist_true_, hist_fake_;  // double: exact counts up to 2^53
    int64_t n_true_ = 0, n_fake_ = 0;
    double loss_sum_ = 0;
    int64_t loss_edges_ = 0;
};

}  // namespace hepgnn::trainer
