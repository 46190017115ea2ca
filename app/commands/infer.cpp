// hepgnn infer: TrackML hits -> event graphs -> GNN edge scores -> track
// candidates -> TrackML submission CSV, with a per-stage timing table as in
// the Exa.TrkX inference studies. Events are spread over the ranks.
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <memory>
#include <unordered_set>

#include "app/command.hpp"
#include "app/config_schemas.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/stage_timer.hpp"
#include "data/graph_builder.hpp"
#include "data/trackml_csv.hpp"
#include "trainer/edge_scorer.hpp"
#include "trainer/tracks/event_hits.hpp"
#include "trainer/tracks/track_building.hpp"
#include "trainer/tracks/track_matching.hpp"

namespace hepgnn::app {
namespace {

struct InferOptions {
    std::string model;
    std::string input;
    std::string out;
    std::string config;  // graph building (prepare) config
    std::vector<std::string> overrides;
    double cut = 0.5;
    std::string track_method = "walkthrough";
    int min_hits = 3;
    int threads = 0;
    int64_t max_events = 0;
};

// Stages in pipeline order (the table lists them so).
const char* const kStages[] = {"read", "graph_building", "gnn", "track_building", "write"};

int run_infer(const InferOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    if (opt.threads > 0) at::set_num_threads(opt.threads);
    std::unique_ptr<trainer::EdgeScorer> scorer;
    std::unique_ptr<data::GraphBuilder> builder;
    std::vector<int64_t> events;
    comm.collectively([&] {
        const Config config = Config::load(prepare_schema(), opt.config, opt.overrides);
        builder = std::make_unique<data::GraphBuilder>(graph_builder_config(config));
        tracks::TrackBuilder check({opt.cut, opt.min_hits, opt.track_method});
        scorer = trainer::load_edge_scorer(opt.model);
        data::check_features_match(scorer->features(), fmt::format("model '{}'", opt.model),
                                   data::GraphBuilder::feature_info(builder->config()),
                                   opt.config.empty()
                                       ? std::string("graphs of the default --config")
                                       : fmt::format("graphs of --config '{}'", opt.config));
        events = data::list_trackml_events(opt.input);
        HEPGNN_CHECK(!events.empty(), "{}: no TrackML events (eventNNNNNNNNN-hits.csv) found",
                     opt.input);
        if (opt.max_events > 0 && static_cast<int64_t>(events.size()) > opt.max_events)
            events.resize(static_cast<size_t>(opt.max_events));
        if (ctx.is_root()) std::filesystem::create_directories(opt.out);
    });
    const auto feature_names = data::GraphBuilder::feature_info(builder->config()).names;
    const int r_col = tracks::feature_column(feature_names, "r");
    const int z_col = tracks::feature_column(feature_names, "z");

    StageTimes times;
    std::vector<int64_t> counts(4, 0);  // events, hits, edges, candidates (this rank)
    tracks::TrackBuilder track_builder({opt.cut, opt.min_hits, opt.track_method});
    Progress progress("infer", static_cast<int64_t>(events.size()),
                      Progress::config_for(stderr, ctx.is_root(), "events"));
    comm.collectively([&] {
        for (size_t i = comm.rank(); i < events.size(); i += comm.size()) {
            const int64_t event_id = events[i];
            std::vector<data::Hit> hits;
            {
                ScopedStage t(times, "read");
                hits =
                    data::read_trackml_hits(std::filesystem::path(opt.input) /
                                            (data::trackml_event_prefix(event_id) + "-hits.csv"));
            }
            std::vector<data::EventGraph> graphs;
            {
                ScopedStage t(times, "graph_building");
                graphs = builder->build_from_hits(event_id, hits);
            }
            std::vector<std::vector<float>> logits(graphs.size());
            {
                ScopedStage t(times, "gnn");
                for (size_t g = 0; g < graphs.size(); ++g) logits[g] = scorer->logits(graphs[g]);
            }
            std::vector<tracks::SubmissionRow> rows;
            {
                ScopedStage t(times, "track_building");
                const auto merged = tracks::merge_event_graphs(graphs, logits, r_col, z_col);
                HEPGNN_INTERNAL_CHECK(merged.size() <= 1, "graphs of one event merged into {}",
                                      merged.size());
                std::vector<int64_t> hit_ids, labels;
                if (!merged.empty()) {  // an event without barrel hits has no graph
                    const auto& ev = merged.front();
                    const auto c = track_builder.build(static_cast<int64_t>(ev.hit_id.size()),
                                                       ev.senders.data(), ev.receivers.data(),
                                                       ev.scores.data(),
                                                       static_cast<int64_t>(ev.scores.size()));
                    hit_ids = ev.hit_id;
                    labels = c.labels;
                    counts[2] += static_cast<int64_t>(ev.scores.size());
                    counts[3] += c.n_candidates;
                }
                rows = tracks::make_submission(hit_ids, labels);
                // Hits outside every graph (endcaps, outside the eta range)
                // belong to no track; a submission lists every hit.
                std::unordered_set<int64_t> listed(hit_ids.begin(), hit_ids.end());
                for (const auto& h : hits)
                    if (!listed.count(h.hit_id)) rows.push_back({h.hit_id, 0});
            }
            {
                ScopedStage t(times, "write");
                tracks::write_submission_csv(
                    std::filesystem::path(opt.out) /
                        (data::trackml_event_prefix(event_id) + "-submission.csv"),
                    event_id, rows);
            }
            counts[0] += 1;
            counts[1] += static_cast<int64_t>(hits.size());
            progress.update(static_cast<int64_t>(i + 1));
        }
    });
    progress.finish();
    comm.allreduce(counts.data(), counts.size());
    std::vector<double> seconds;
    for (const char* s : kStages) seconds.push_back(times.get(s));
    comm.allreduce(seconds.data(), seconds.size());  // summed over ranks
    if (!ctx.is_root()) return 0;

    const double total = [&] {
        double t = 0;
        for (double s : seconds) t += s;
        return t;
    }();
    const double n_events = static_cast<double>(std::max<int64_t>(1, counts[0]));
    std::printf(
        "infer: %lld events, %lld hits, %lld edges -> %lld track candidates (%s) with "
        "%s\n",
        (long long)counts[0], (long long)counts[1], (long long)counts[2], (long long)counts[3],
        opt.track_method.c_str(), scorer->describe().c_str());
    std::printf("%-16s %12s %12s %8s\n", "stage", "total s", "per event s", "share");
    nlohmann::json stage_json;
    for (size_t k = 0; k < seconds.size(); ++k) {
        std::printf("%-16s %12.3f %12.4f %7.1f%%\n", kStages[k], seconds[k], seconds[k] / n_events,
                    total > 0 ? 100 * seconds[k] / total : 0.0);
        stage_json[std::string(kStages[k]) + "_s"] = seconds[k] / n_events;
    }
    std::printf("%-16s %12.3f %12.4f\n", "total", total, total / n_events);
    const nlohmann::json report = {{"model", opt.model},
                                   {"describe", scorer->describe()},
                                   {"events", counts[0]},
                                   {"hits", counts[1]},
                                   {"edges", counts[2]},
                                   {"track_candidates", counts[3]},
                                   {"ranks", comm.size()},
                                   {"threads_per_rank", at::get_num_threads()},
                                   {"seconds_per_event", stage_json}};
    const auto path = std::filesystem::path(opt.out) / "timing.json";
    replace_file_atomically(path, [&](const std::filesystem::path& tmp) {
        std::ofstream(tmp) << report.dump(2) << "\n";
    });
    std::printf("infer: submissions and timing.json in %s\n", opt.out.c_str());
    return 0;
}

}  // namespace

void add_infer_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<InferOptions>();
    auto* cmd = app.add_subcommand(
        "infer",
        "Track finding on TrackML hits: graph building, GNN edge scores, track building; "
        "writes OUT/eventNNNNNNNNN-submission.csv (event_id,hit_id,track_id) per event and a "
        "per-stage timing table");
    cmd->add_option("--model", opt->model,
                    "A checkpoint (OUT/checkpoints/best.ckpt) or a TorchScript export")
        ->required();
    cmd->add_option("--input", opt->input, "Folder of eventNNNNNNNNN-hits.csv files")->required();
    cmd->add_option("--out", opt->out, "Output folder")->required();
    cmd->add_option("--config", opt->config,
                    "Graph building config (the prepare YAML the model was trained with)");
    add_set_option(*cmd, opt->overrides);
    cmd->add_option("--cut", opt->cut, "Edge score cut for track building")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    cmd->add_option("--track-method", opt->track_method, "components | walkthrough")
        ->check(CLI::IsMember({"components", "walkthrough"}))
        ->capture_default_str();
    cmd->add_option("--min-hits", opt->min_hits, "Smallest track candidate kept")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    cmd->add_option("--threads", opt->threads, "Intra-op threads (0: torch default)");
    cmd->add_option("--max-events", opt->max_events, "Use at most this many events (0: all)");
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_infer(*opt, ctx); }; });
}

}  // namespace hepgnn::app
