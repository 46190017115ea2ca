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
#include <memory>
#include <optional>
#include <set>

#include "app/command.hpp"
#include "app/score_report.hpp"
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
    explicit Summary(const pipeline::ScoreConfig& config) : scores(config) {}
    nlohmann::json report;
    ScoreReport scores;
    std::vector<int64_t> unscored;  // events of --input without a submission
};

Summary score_all(const ScoreOptions& opt) {
    pipeline::ScoreConfig config;
    config.min_hits = opt.min_hits;
    config.zero_is_unassigned = opt.track_id_0 == "unassigned";
    Summary s(config);

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
        s.scores.add(pipeline::score_event(config, sub.event_id, truth, track_id),
                     sub.path.string());
    }

    s.report = s.scores.to_json();
    s.report.update({{"input", opt.input},
                     {"submissions", opt.submissions},
                     {"track_id_0", opt.track_id_0},
                     {"events_without_submission", s.unscored}});
    return s;
}

void print_summary(const ScoreOptions& opt, const Summary& s) {
    std::printf("score: %zu events of %s against the truth in %s (track id 0: %s)\n",
                s.scores.n_events(), opt.submissions.c_str(), opt.input.c_str(),
                opt.track_id_0 == "track" ? "a track, as in TrackML" : "unassigned hits");
    std::printf("%-10s %9s %8s %9s %9s %9s %9s %7s %7s\n", "event", "hits", "tracks", "sum_w",
                "trackml", "eff>1", "eff>0.5", "fake", "dup");
    constexpr size_t kMaxRows = 20;  // the JSON has them all
    for (size_t k = 0; k < s.scores.n_events() && k < kMaxRows; ++k) {
        const auto& e = s.scores.events()[k];
        std::printf("%-10lld %9lld %8lld %9.6f %9.6f %9.4f %9.4f %7.4f %7.4f\n",
                    (long long)e.event_id, (long long)e.tracks.n_hits,
                    (long long)e.trackml.n_tracks, e.trackml.total_weight, e.trackml.score(),
                    e.tracks.track_efficiency(), e.tracks_low.track_efficiency(),
                    e.tracks.fake_rate(), e.tracks.duplicate_rate());
    }
    if (s.scores.n_events() > kMaxRows)
        std::printf("... %zu more events\n", s.scores.n_events() - kMaxRows);
    std::printf("%-10s %9lld %8s %9s %9.6f %9.4f %9.4f %7.4f %7.4f\n", "all",
                (long long)s.scores.total().n_hits, "", "", s.scores.mean_score(),
                s.scores.total().track_efficiency(), s.scores.total_low().track_efficiency(),
                s.scores.total().fake_rate(), s.scores.total().duplicate_rate());
    std::printf(
        "score: TrackML score %.6f (mean over events); pT > 1 GeV: efficiency %.4f (%lld of %lld "
        "particles), fake rate %.4f, duplicate rate %.4f; pT > 0.5 GeV: efficiency %.4f\n",
        s.scores.mean_score(), s.scores.total().track_efficiency(),
        (long long)s.scores.total().n_reconstructed, (long long)s.scores.total().n_reconstructable,
        s.scores.total().fake_rate(), s.scores.total().duplicate_rate(),
        s.scores.total_low().track_efficiency());
    std::printf("score: %s", s.scores.weights_table().c_str());
    for (const auto& e : s.scores.events()) {
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
    std::optional<Summary> summary;
    ctx.comm->collectively([&] {
        if (!ctx.is_root()) return;
        summary.emplace(score_all(opt));
        const Summary& s = *summary;
        if (opt.out.empty()) return;
        write_file_atomically(opt.out, s.report.dump(2) + "\n", "score report");
    });
    if (!ctx.is_root()) return 0;
    print_summary(opt, *summary);
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
