#include "app/score_report.hpp"

#include <cmath>

namespace hepgnn::app {
namespace {

// The rates of Note [Track matching] with the counts behind them.
nlohmann::json rates_json(const pipeline::TrackMetrics& m) {
    return {{"track_efficiency", m.track_efficiency()},
            {"fake_rate", m.fake_rate()},
            {"duplicate_rate", m.duplicate_rate()},
            {"n_reconstructable_particles", m.n_reconstructable},
            {"n_reconstructed_particles", m.n_reconstructed},
            {"n_counted_tracks", m.n_candidates},
            {"n_fake_tracks", m.n_fake},
            {"n_duplicate_tracks", m.n_duplicate}};
}

nlohmann::json event_json(const pipeline::EventScore& e, const std::string& source) {
    nlohmann::json j = {{"event_id", e.event_id}};
    if (!source.empty()) j["submission"] = source;
    j.update({{"trackml_score", e.trackml.score()},
              {"matched_weight", e.trackml.matched_weight},
              {"total_weight", e.trackml.total_weight},
              {"n_hits", e.tracks.n_hits},
              {"n_noise_hits", e.tracks.n_noise_hits},
              {"n_tracks", e.trackml.n_tracks},
              {"n_matched_tracks", e.trackml.n_matched},
              {"n_matched_hits", e.trackml.n_matched_hits}});
    j.update(rates_json(e.tracks));
    j["pt_0.5"] = rates_json(e.tracks_low);
    return j;
}

}  // namespace

nlohmann::json efficiency_json(const pipeline::EfficiencyHistogram& h) {
    nlohmann::json bins = nlohmann::json::array();
    for (size_t b = 0; b < h.n_bins(); ++b)
        bins.push_back({{"low", h.edges[b]},
                        {"high", std::isinf(h.edges[b + 1]) ? nlohmann::json(nullptr)
                                                            : nlohmann::json(h.edges[b + 1])},
                        {"reconstructable", h.reconstructable[b]},
                        {"reconstructed", h.reconstructed[b]},
                        {"efficiency", h.efficiency(b)}});
    return bins;
}

ScoreReport::ScoreReport(const pipeline::ScoreConfig& config)
    : config_(config),
      total_(config.matching(config.pt_min)),
      total_low_(config.matching(config.pt_min_low)) {}

void ScoreReport::add(const pipeline::EventScore& event, const std::string& source) {
    events_.push_back(event);
    sources_.push_back(source);
    total_.merge(event.tracks);
    total_low_.merge(event.tracks_low);
    score_sum_ += event.trackml.score();
}

double ScoreReport::mean_score() const {
    return events_.empty() ? 0.0 : score_sum_ / double(events_.size());
}

nlohmann::json ScoreReport::to_json() const {
    // DESIGN §3.5. Rates are over the summed counts of all events; the
    // TrackML score is the mean of the events' scores.
    nlohmann::json r = {{"n_events", events_.size()},
                        {"trackml_score", mean_score()},
                        {"min_hits", config_.min_hits},
                        {"pt_min", config_.pt_min}};
    r.update(rates_json(total_));
    r["track_efficiency_vs_pt"] = efficiency_json(total_.efficiency_vs_pt);
    r["track_efficiency_vs_eta"] = efficiency_json(total_.efficiency_vs_eta);
    nlohmann::json low = rates_json(total_low_);
    low["pt_min"] = config_.pt_min_low;
    low["track_efficiency_vs_eta"] = efficiency_json(total_low_.efficiency_vs_eta);
    r["pt_0.5"] = low;
    nlohmann::json events = nlohmann::json::array();
    for (size_t k = 0; k < events_.size(); ++k)
        events.push_back(event_json(events_[k], sources_[k]));
    r["events"] = std::move(events);
    return r;
}

}  // namespace hepgnn::app
