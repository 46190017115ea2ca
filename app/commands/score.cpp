// hepgnn score: TrackML submissions (as `hepgnn infer` writes them) against
// the truth of their events: the TrackML score (Note [TrackML score]) and the
// track efficiency, fake and duplicate rates over every particle, with
// efficiency histograms in pT and eta (DESIGN §3.5). Reading the CSV files
// dominates and takes well under a second per 100k-hit event, so one process
// does it all (rank 0 under mpirun).
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>

#include "app/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/trackml_csv.hpp"
#include "pipeline/submission.hpp"
#include "pipeline/trackml_score.hpp"

namespace hepgnn::app {
namespace {

namespace fs = std::filesystem;

struct ScoreOptions {
    std::string input;
    std::string submissions;
    std::string out;
    int min_hits = 3;
    std::string track_id_0 = "track";  // Note [Track id 0]: track | unassigned
};

struct Summary {
    nlohmann::json report;
    std::vector<pipeline::EventScore> events;
    std::vector<int64_t> unscored;  // events of --input without a submission
    tracks::TrackMetrics total, total_low;
    double mean_score = 0;
};

nlohmann::json efficiency_json(const tracks::EfficiencyHistogram& h) {
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

// The rates of Note [Track matching] with the counts behind them.
nlohmann::json rates_json(const tracks::TrackMetrics& m) {
    return {{"track_efficiency", m.track_efficiency()},
            {"fake_rate", m.fake_rate()},
            {"duplicate_rate", m.duplicate_rate()},
            {"n_reconstructable_particles", m.n_reconstructable},
            {"n_reconstructed_particles", m.n_reconstructed},
            {"n_counted_tracks", m.n_candidates},
            {"n_fake_tracks", m.n_fake},
            {"n_duplicate_tracks", m.n_duplicate}};
}

nlohmann::json event_json(const pipeline::EventScore& e, const std::string& submission) {
    nlohmann::json j = {{"event_id", e.event_id},
                        {"submission", submission},
                        {"trackml_score", e.trackml.score()},
                        {"matched_weight", e.trackml.matched_weight},
                        {"total_weight", e.trackml.total_weight},
                        {"n_hits", e.tracks.n_hits},
                        {"n_noise_hits", e.tracks.n_noise_hits},
                        {"n_tracks", e.trackml.n_tracks},
                        {"n_matched_tracks", e.trackml.n_matched},
                        {"n_matched_hits", e.trackml.n_matched_hits}};
    j.update(rates_json(e.tracks));
    j["pt_0.5"] = rates_json(e.tracks_low);
    return j;
}

Summary score_all(const ScoreOptions& opt) {
    pipeline::ScoreConfig config;
    config.min_hits = opt.min_hits;
    config.zero_is_unassigned = opt.track_id_0 == "unassigned";
    Summary s;
    s.total = tracks::TrackMetrics(config.matching(config.pt_min));
    s.total_low = tracks::TrackMetrics(config.matching(config.pt_min_low));

    // Every submission must have its event before any is read.
    const auto submissions = pipeline::list_submissions(opt.submissions);
    const auto event_ids = data::list_trackml_events(opt.input);
    std::set<int64_t> unscored(event_ids.begin(), event_ids.end());
    for (const auto& sub : submissions) {
        HEPGNN_CHECK(unscored.erase(sub.event_id) == 1,
                     "submission {} is for event {}, but '{}' has no {}-hits.csv; pass the folder "
                     "holding that event's hits, truth and particles as --input (or remove the "
                     "submission)",
                     sub.path.string(), sub.event_id, opt.input,
                     data::trackml_event_prefix(sub.event_id));
    }
    s.unscored.assign(unscored.begin(), unscored.end());

    nlohmann::json events = nlohmann::json::array();
    double score_sum = 0;
    for (const auto& sub : submissions) {
        const std::string prefix =
            (fs::path(opt.input) / data::trackml_event_prefix(sub.event_id)).string();
        for (const char* table : {"truth", "particles"}) {
            const std::string file = prefix + "-" + table + ".csv";
            HEPGNN_CHECK(fs::exists(file),
                         "{} is missing: scoring submission {} needs the event's truth and "
                         "particles beside its hits (eventNNNNNNNNN-{{hits,truth,particles}}.csv, "
                         "as 'hepgnn simulate' writes them)",
                         file, sub.path.string());
        }
        const data::TrackmlEvent event = data::read_trackml_event(opt.input, sub.event_id);
        const auto truth = pipeline::event_truth(event, prefix + "-{truth,particles}.csv");
        std::vector<int64_t> hit_ids(event.hits.size());
        for (size_t i = 0; i < hit_ids.size(); ++i) hit_ids[i] = event.hits[i].hit_id;
        const auto track_id = pipeline::track_ids_per_hit(
            pipeline::read_submission_csv(sub.path), sub.event_id, hit_ids, prefix + "-hits.csv");
        s.events.push_back(pipeline::score_event(config, sub.event_id, truth, track_id));
        const auto& e = s.events.back();
        s.total.merge(e.tracks);
        s.total_low.merge(e.tracks_low);
        score_sum += e.trackml.score();
        events.push_back(event_json(e, sub.path.string()));
    }
    s.mean_score = score_sum / double(s.events.size());

    // DESIGN §3.5. Rates are over the summed counts of all events; the
    // TrackML score is the mean of the events' scores.
    nlohmann::json& r = s.report;
    r = {{"input", opt.input},          {"submissions", opt.submissions},
         {"n_events", s.events.size()}, {"trackml_score", s.mean_score},
         {"min_hits", config.min_hits}, {"pt_min", config.pt_min},
         {"track_id_0", opt.track_id_0}};
    r.update(rates_json(s.total));
    r["track_efficiency_vs_pt"] = efficiency_json(s.total.efficiency_vs_pt);
    r["track_efficiency_vs_eta"] = efficiency_json(s.total.efficiency_vs_eta);
    nlohmann::json low = rates_json(s.total_low);
    low["pt_min"] = config.pt_min_low;
    low["track_efficiency_vs_eta"] = efficiency_json(s.total_low.efficiency_vs_eta);
    r["pt_0.5"] = low;
    r["events_without_submission"] = s.unscored;
    r["events"] = std::move(events);
    return s;
}

void print_summary(const ScoreOptions& opt, const Summary& s) {
    std::printf("score: %zu events of %s against the truth in %s (track id 0: %s)\n",
                s.events.size(), opt.submissions.c_str(), opt.input.c_str(),
                opt.track_id_0 == "track" ? "a track, as in TrackML" : "unassigned hits");
    std::printf("%-10s %9s %8s %9s %9s %9s %9s %7s %7s\n", "event", "hits", "tracks", "sum_w",
                "trackml", "eff>1", "eff>0.5", "fake", "dup");
    constexpr size_t kMaxRows = 20;  // the JSON has them all
    for (size_t k = 0; k < s.events.size() && k < kMaxRows; ++k) {
        const auto& e = s.events[k];
        std::printf("%-10lld %9lld %8lld %9.6f %9.6f %9.4f %9.4f %7.4f %7.4f\n",
                    (long long)e.event_id, (long long)e.tracks.n_hits,
                    (long long)e.trackml.n_tracks, e.trackml.total_weight, e.trackml.score(),
                    e.tracks.track_efficiency(), e.tracks_low.track_efficiency(),
                    e.tracks.fake_rate(), e.tracks.duplicate_rate());
    }
    if (s.events.size() > kMaxRows)
        std::printf("... %zu more events\n", s.events.size() - kMaxRows);
    std::printf("%-10s %9lld %8s %9s %9.6f %9.4f %9.4f %7.4f %7.4f\n", "all",
                (long long)s.total.n_hits, "", "", s.mean_score, s.total.track_efficiency(),
                s.total_low.track_efficiency(), s.total.fake_rate(), s.total.duplicate_rate());
    std::printf(
        "score: TrackML score %.6f (mean over events); pT > 1 GeV: efficiency %.4f (%lld of %lld "
        "particles), fake rate %.4f, duplicate rate %.4f; pT > 0.5 GeV: efficiency %.4f\n",
        s.mean_score, s.total.track_efficiency(), (long long)s.total.n_reconstructed,
        (long long)s.total.n_reconstructable, s.total.fake_rate(), s.total.duplicate_rate(),
        s.total_low.track_efficiency());
    for (const auto& e : s.events) {
        if (std::fabs(e.trackml.total_weight - 1.0) > 1e-3)
            std::printf(
                "score: note: the truth weights of event %lld sum to %.6f, not 1 as in TrackML; "
                "its score is divided by that sum (as TrackML's score_event does)\n",
                (long long)e.event_id, e.trackml.total_weight);
    }
    if (!s.unscored.empty())
        std::printf(
            "score: note: %zu events of %s have no submission and are not scored (first: "
            "event %lld)\n",
            s.unscored.size(), opt.input.c_str(), (long long)s.unscored.front());
}

int run_score(const ScoreOptions& opt, Context& ctx) {
    Summary s;
    ctx.comm->collectively([&] {
        if (!ctx.is_root()) return;
        s = score_all(opt);
        if (opt.out.empty()) return;
        try {
            replace_file_atomically(opt.out, [&](const fs::path& tmp) {
                std::ofstream out(tmp);
                out << s.report.dump(2) << "\n";
                out.close();
                HEPGNN_CHECK(out.good(), "cannot write '{}' (disk full or no permission?)",
                             opt.out);
            });
        } catch (const fs::filesystem_error& e) {  // folder creation, rename
            HEPGNN_FAIL("cannot write '{}': {}", opt.out, e.code().message());
        }
    });
    if (!ctx.is_root()) return 0;
    print_summary(opt, s);
    if (!opt.out.empty()) std::printf("score: JSON in %s\n", opt.out.c_str());
    return 0;
}

}  // namespace

void add_score_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<ScoreOptions>();
    auto* cmd = app.add_subcommand(
        "score",
        "TrackML score (Kaggle TrackML challenge) and track efficiency, fake and duplicate rates "
        "of submissions (eventNNNNNNNNN-submission.csv: event_id,hit_id,track_id, one row per "
        "hit, as 'hepgnn infer' writes them) against the truth of their events");
    cmd->add_option("--input", opt->input,
                    "Folder of the events' eventNNNNNNNNN-{hits,truth,particles}.csv")
        ->required();
    cmd->add_option("--submissions", opt->submissions,
                    "Folder of eventNNNNNNNNN-submission.csv files")
        ->required();
    cmd->add_option("--out", opt->out, "Write the report as JSON to this file");
    cmd->add_option("--min-hits", opt->min_hits,
                    "Reconstructable particles and counted tracks have at least this many hits "
                    "(rates only; the TrackML score counts every track)")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--track-id-0", opt->track_id_0,
                    "track: track id 0 is a track like any other, as in TrackML; unassigned: "
                    "its hits belong to no track (what 'hepgnn infer' means by 0)")
        ->check(CLI::IsMember({"track", "unassigned"}))
        ->capture_default_str();
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_score(*opt, ctx); }; });
}

}  // namespace hepgnn::app
