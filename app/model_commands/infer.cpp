// hepgnn infer: TrackML hits -> the inference pipeline (graph construction,
// GNN edge scores, track building; pipeline/pipeline.hpp) -> TrackML
// submission CSV, with a per-stage timing table as in the Exa.TrkX inference
// studies. Events are spread over the ranks.
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include "app/config_schemas.hpp"
#include "app/graph_output.hpp"
#include "app/model_commands/model_commands.hpp"
#include "app/model_commands/model_loading.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/stage_timer.hpp"
#include "data/graph_file.hpp"
#include "data/trackml_csv.hpp"
#include "pipeline/graph_construction.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/track_building.hpp"
#include "pipeline/track_matching.hpp"

namespace hepgnn::app {
namespace {

namespace fs = std::filesystem;

struct InferOptions {
    std::string model;
    std::string input;
    std::string out;
    std::string config;  // graph building (prepare) config
    std::vector<std::string> overrides;
    pipeline::TrackBuildingConfig tracks;
    int threads = 0;
    bool bf16 = false;
    int64_t max_events = 0;
    std::string save_graphs;  // also write the graphs built (HDF5)
};

// Stages in pipeline order (the table lists them so).
const char* const kStages[] = {"read", "graph_building", "gnn", "track_building", "write"};

double median_of(std::vector<double> v) {
    if (v.empty()) return 0.0;
    std::sort(v.begin(), v.end());
    const size_t m = v.size() / 2;
    return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

int run_infer(const InferOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    if (opt.threads > 0) at::set_num_threads(opt.threads);
    std::unique_ptr<pipeline::Pipeline> pipe;
    std::vector<int64_t> events;
    comm.collectively([&] {
        const Config config = Config::load(prepare_schema(), opt.config, opt.overrides);
        auto graphs =
            std::make_unique<pipeline::DetectorGraphConstruction>(graph_builder_config(config));
        auto tracks = std::make_unique<pipeline::TrackBuilder>(opt.tracks);
        pipeline::GnnEdgeClassifier::Config classifier_config;
        classifier_config.bfloat16 = opt.bf16;
        auto classifier = load_edge_classifier(opt.model, classifier_config);
        data::check_features_match(
            classifier->features(), fmt::format("model '{}'", opt.model), graphs->features(),
            opt.config.empty() ? std::string("graphs of the default --config")
                               : fmt::format("graphs of --config '{}'", opt.config));
        pipe = std::make_unique<pipeline::Pipeline>(std::move(graphs), std::move(classifier),
                                                    std::move(tracks));
        events = data::list_trackml_events(opt.input, opt.max_events);
        HEPGNN_CHECK(!events.empty(), "{}: no TrackML events (eventNNNNNNNNN-hits.csv) found",
                     opt.input);
        if (ctx.is_root()) fs::create_directories(opt.out);
    });

    StageTimes times;
    std::vector<int64_t> counts(4, 0);  // events, hits, edges, candidates (this rank)
    // Each event's GNN seconds (this rank's slots; summed over ranks below): a rank's first
    // event also maps the pages its buffers then reuse, so its median is the steady state.
    std::vector<double> gnn_by_event(events.size(), 0.0);
    // Contiguous blocks of events, so that --save-graphs writes them in order, as prepare does.
    const auto block = event_block(events.size(), comm.rank(), comm.size());
    Progress progress("infer", static_cast<int64_t>(block.second - block.first),
                      Progress::config_for(stderr, ctx.is_root(), "events"));
    std::optional<GraphOutput> graph_output;
    if (!opt.save_graphs.empty())
        graph_output.emplace(comm, opt.save_graphs, pipe->graph_construction().features());
    comm.collectively([&] {
        for (size_t i = block.first; i < block.second; ++i) {
            const int64_t event_id = events[i];
            std::vector<data::Hit> hits;
            {
                ScopedStage t(times, "read");
                hits = data::read_trackml_hits(
                    fs::path(opt.input) / (data::trackml_event_prefix(event_id) + "-hits.csv"));
            }
            const double gnn_before = times.get("gnn");
            const pipeline::EventReconstruction rec = pipe->run(event_id, hits, &times);
            gnn_by_event[i] = times.get("gnn") - gnn_before;
            {
                ScopedStage t(times, "write");
                // Every hit of the event is listed; hits in no graph or
                // candidate get track 0.
                std::vector<int64_t> hit_ids(hits.size());
                for (size_t h = 0; h < hits.size(); ++h) hit_ids[h] = hits[h].hit_id;
                pipeline::write_submission_csv(
                    fs::path(opt.out) / (data::trackml_event_prefix(event_id) + "-submission.csv"),
                    event_id, pipeline::make_submission(hit_ids, rec.labels_of(hit_ids)));
                if (graph_output)
                    for (const auto& g : rec.graphs) graph_output->append(g);
            }
            counts[0] += 1;
            counts[1] += static_cast<int64_t>(hits.size());
            counts[2] += static_cast<int64_t>(rec.hits.scores.size());
            counts[3] += rec.candidates.n_candidates;
            progress.update(static_cast<int64_t>(i + 1 - block.first));
        }
    });
    progress.finish();
    if (graph_output) graph_output->commit();
    comm.allreduce(counts.data(), counts.size());
    std::vector<double> seconds;
    for (const char* s : kStages) seconds.push_back(times.get(s));
    comm.allreduce(seconds.data(), seconds.size());  // summed over ranks
    comm.allreduce(gnn_by_event.data(), gnn_by_event.size());
    if (!ctx.is_root()) return 0;

    const double total = [&] {
        double t = 0;
        for (double s : seconds) t += s;
        return t;
    }();
    const double n_events = static_cast<double>(std::max<int64_t>(1, counts[0]));
    const std::string describe = pipe->edge_classification().describe();
    std::printf(
        "infer: %lld events, %lld hits, %lld edges -> %lld track candidates (%s) with "
        "%s\n",
        (long long)counts[0], (long long)counts[1], (long long)counts[2], (long long)counts[3],
        opt.tracks.method.c_str(), describe.c_str());
    note_if_seed_cut_left_nothing(ctx, "infer", opt.tracks, counts[2], counts[3]);
    std::printf("%-16s %12s %12s %8s\n", "stage", "total s", "per event s", "share");
    nlohmann::json stage_json;
    for (size_t k = 0; k < seconds.size(); ++k) {
        std::printf("%-16s %12.3f %12.4f %7.1f%%\n", kStages[k], seconds[k], seconds[k] / n_events,
                    total > 0 ? 100 * seconds[k] / total : 0.0);
        stage_json[std::string(kStages[k]) + "_s"] = seconds[k] / n_events;
    }
    std::printf("%-16s %12.3f %12.4f\n", "total", total, total / n_events);
    const double gnn_median = median_of(gnn_by_event);
    std::printf("gnn per event: median %.4f s, first event %.4f s\n", gnn_median,
                gnn_by_event.empty() ? 0.0 : gnn_by_event.front());
    const nlohmann::json report = {{"model", opt.model},
                                   {"describe", describe},
                                   {"track_method", opt.tracks.method},
                                   {"cut", opt.tracks.cut},
                                   {"seed_cut", opt.tracks.seed_cut},
                                   {"events", counts[0]},
                                   {"hits", counts[1]},
                                   {"edges", counts[2]},
                                   {"track_candidates", counts[3]},
                                   {"ranks", comm.size()},
                                   {"threads_per_rank", at::get_num_threads()},
                                   {"bfloat16_products", opt.bf16},
                                   {"seconds_per_event", stage_json},
                                   {"gnn_s_median", gnn_median},
                                   {"gnn_s_by_event", gnn_by_event}};
    const auto path = fs::path(opt.out) / "timing.json";
    write_file_atomically(path, report.dump(2) + "\n", "inference report");
    std::printf("infer: submissions and timing.json in %s\n", opt.out.c_str());
    if (!opt.save_graphs.empty())
        std::printf("infer: the graphs it built in %s\n", opt.save_graphs.c_str());
    return 0;
}

}  // namespace

void add_infer_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<InferOptions>();
    auto* cmd = app.add_subcommand(
        "infer",
        "Track finding on TrackML hits: graph building, GNN edge scores, track building; "
        "writes OUT/eventNNNNNNNNN-submission.csv (event_id,hit_id,track_id; track 0: no track) "
        "per event and a per-stage timing table");
    cmd->add_option("--model", opt->model,
                    "A checkpoint (OUT/checkpoints/best.ckpt) or a TorchScript export")
        ->required();
    cmd->add_option("--input", opt->input, "Folder of eventNNNNNNNNN-hits.csv files")->required();
    cmd->add_option("--out", opt->out, "Output folder")->required();
    cmd->add_option("--config", opt->config,
                    "Graph building config (the prepare YAML the model was trained with)");
    add_set_option(*cmd, opt->overrides);
    add_track_building_options(*cmd, opt->tracks);
    cmd->add_option("--threads", opt->threads, "Intra-op threads (0: torch default)");
    cmd->add_flag("--bf16", opt->bf16, kBf16Help);
    cmd->add_option("--max-events", opt->max_events, "Use at most this many events (0: all)");
    cmd->add_option("--save-graphs", opt->save_graphs,
                    "Also write the graphs infer built to this graph file (.h5; no labels), to "
                    "inspect what the model saw");
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_infer(*opt, ctx); }; });
}

}  // namespace hepgnn::app
