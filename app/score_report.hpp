// What `hepgnn score` and `hepgnn evaluate --events` report of scored events
// (DESIGN §3.5): the TrackML score (mean over events), the track efficiency,
// fake and duplicate rates at pT > pt_min and under "pt_0.5", efficiency
// histograms and per-event figures. One implementation, so both commands
// give the same numbers on the same tracks.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "pipeline/trackml_score.hpp"

namespace hepgnn::app {

/// Efficiency histogram bins as JSON (low, high (null when open), counts, efficiency).
nlohmann::json efficiency_json(const pipeline::EfficiencyHistogram& h);

class ScoreReport {
public:
    explicit ScoreReport(const pipeline::ScoreConfig& config);

    /// Adds one event; `source` (e.g. its submission file) goes into its
    /// JSON entry when not empty. Events are reported in the order added.
    void add(const pipeline::EventScore& event, const std::string& source = "");

    size_t n_events() const { return events_.size(); }
    /// Mean TrackML score over the events (0 without events).
    double mean_score() const;
    /// Summed over events.
    const pipeline::TrackMetrics& total() const { return total_; }
    const pipeline::TrackMetrics& total_low() const { return total_low_; }
    /// Note [Score breakdown], summed over events.
    const pipeline::WeightBreakdown& weights() const { return weights_; }
    /// Summed total weight of the events (W of Note [TrackML score]).
    double total_weight() const { return weight_sum_; }
    const std::vector<pipeline::EventScore>& events() const { return events_; }

    /// Note [Score breakdown] as a table for the log, one line per pT bin.
    std::string weights_table() const;

    /// n_events, trackml_score, min_hits, pt_min, the rates with their
    /// counts, track_efficiency_vs_pt/eta, "pt_0.5", "weight_by_pt" (Note
    /// [Score breakdown], as fractions of the events' summed weight) and "events".
    nlohmann::json to_json() const;

private:
    pipeline::ScoreConfig config_;
    std::vector<pipeline::EventScore> events_;
    std::vector<std::string> sources_;
    pipeline::TrackMetrics total_, total_low_;
    pipeline::WeightBreakdown weights_;
    double score_sum_ = 0, weight_sum_ = 0;
};

}  // namespace hepgnn::app
