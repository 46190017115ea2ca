#include "app/score_report.hpp"

#include <fmt/format.h>

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

nlohmann::json bin_high_json(double high) {
    return std::isinf(high) ? nlohmann::json(nullptr) : nlohmann::json(high);
}

// Note [Score breakdown] as fractions of `total` (the events' summed weight).
nlohmann::json weights_json(const pipeline::WeightBreakdown& w, double total) {
    const double f = total > 0 ? 1.0 / total : 0.0;
    nlohmann::json bins = nlohmann::json::array();
    for (size_t b = 0; b < w.bins.size(); ++b) {
        const auto& x = w.bins[b];
        bins.push_back({{"pt_low", w.pt_edges[b]},
                        {"pt_high", bin_high_json(w.pt_edges[b + 1])},
                        {"weight", x.total * f},
                        {"matched", x.matched * f},
                        {"incomplete", x.incomplete * f},
                        {"unassigned", x.unassigned * f},
                        {"merged", x.merged * f},
                        {"split", x.split * f}});
    }
    return {{"noise", w.noise * f}, {"bins", bins}};
}

}  // namespace

nlohmann::json efficiency_json(const pipeline::EfficiencyHistogram& h) {
    nlohmann::json bins = nlohmann::json::array();
    for (size_t b = 0; b < h.n_bins(); ++b)
        bins.push_back({{"low", h.edges[b]},
                        {"high", bin_high_json(h.edges[b + 1])},
                        {"reconstructable", h.reconstructable[b]},
                        {"reconstructed", h.reconstructed[b]},
                        {"efficiency", h.efficiency(b)}});
    return bins;
}

ScoreReport::ScoreReport(const pipeline::ScoreConfig& config)
    : config_(config),
      total_(config.matching(config.pt_min)),
      total_low_(config.matching(config.pt_min_low)),
      weights_(config.weight_pt_bins) {}

void ScoreReport::add(const pipeline::EventScore& event, const std::string& source) {
    events_.push_back(event);
    sources_.push_back(source);
    total_.merge(event.tracks);
    total_low_.merge(event.tracks_low);
    weights_.merge(event.weights);
    score_sum_ += event.trackml.score();
    weight_sum_ += event.trackml.total_weight;
}

double ScoreReport::mean_score() const {
    return events_.empty() ? 0.0 : score_sum_ / double(events_.size());
}

std::string ScoreReport::weights_table() const {
    std::string out = fmt::format(
        "where the weight goes (fractions of the events' weight, Note [Score breakdown]):\n"
        "  {:<11} {:>7} {:>8} {:>11} {:>11} {:>7} {:>7}\n",
        "pT (GeV)", "weight", "matched", "incomplete", "unassigned", "merged", "split");
    const nlohmann::json weights = weights_json(weights_, weight_sum_);
    for (const auto& b : weights["bins"]) {
        const std::string range =
            b["pt_high"].is_null()
                ? fmt::format("> {:g}", b["pt_low"].get<double>())
                : fmt::format("{:g}-{:g}", b["pt_low"].get<double>(), b["pt_high"].get<double>());
        out += fmt::format("  {:<11} {:>7.4f} {:>8.4f} {:>11.4f} {:>11.4f} {:>7.4f} {:>7.4f}\n",
                           range, b["weight"].get<double>(), b["matched"].get<double>(),
                           b["incomplete"].get<double>(), b["unassigned"].get<double>(),
                           b["merged"].get<double>(), b["split"].get<double>());
    }
    return out;
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
    r["weight_by_pt"] = weights_json(weights_, weight_sum_);
    nlohmann::json events = nlohmann::json::array();
    for (size_t k = 0; k < events_.size(); ++k)
        events.push_back(event_json(events_[k], sources_[k]));
    r["events"] = std::move(events);
    return r;
}

}  // namespace hepgnn::app
