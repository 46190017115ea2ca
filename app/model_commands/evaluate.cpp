// hepgnn evaluate: a trained model through the inference pipeline
// (pipeline/pipeline.hpp, the one `infer` runs) -> OUT/evaluation.json, on
// either of two inputs:
//  * --events DIR (TrackML CSV events with truth): graph construction from
//    the hits (the prepare config of --config), edge scores, track building;
//    the tracks are scored like `hepgnn score` scores infer's submissions
//    (TrackML score, efficiency, fake and duplicate rates over ALL hits and
//    particles of each event), and the edges against truth labels;
//  * --data FILE.h5 (graphs from prepare): edge metrics, and track metrics
//    over the graphs' hits only (graph_hits_score: not the TrackML score).
// Edge figures: efficiency, purity, AUC, ROC, efficiency vs pT, efficiency
// and purity by the inner hit's radius. Runs on N ranks: each holds whole
// events, and every figure is a reduced count.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

#include "app/config_schemas.hpp"
#include "app/model_commands/model_commands.hpp"
#include "app/model_commands/model_loading.hpp"
#include "app/score_report.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/graph_file.hpp"
#include "data/sharded_dataset.hpp"
#include "data/trackml_csv.hpp"
#include "pipeline/graph_construction.hpp"
#include "pipeline/label_edge_classifier.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/track_building.hpp"
#include "pipeline/track_matching.hpp"
#include "pipeline/trackml_score.hpp"
#include "trainer/edge_metrics.hpp"
#include "trainer/inference.hpp"

namespace hepgnn::app {
namespace {

namespace fs = std::filesystem;

struct EvaluateOptions {
    std::string checkpoint;
    bool perfect_edges = false;  // --events: truth labels as edge scores (the ceiling)
    std::string data;            // graph file, or ...
    std::string events;          // ... TrackML events with truth
    std::string config;          // --events: graph building (prepare) config
    std::vector<std::string> overrides;
    std::string out = "evaluation";
    pipeline::TrackBuildingConfig tracks;
    // Edge efficiency and purity: --edge-cut, else --cut when given (DESIGN's
    // `evaluate --cut C`), else HEP.TrkX's 0.5; set in the command's callback.
    double edge_cut = 0.5;
    int64_t batch_edges = 200000;
    bool bf16 = false;
    int64_t max_graphs = 0;
    int64_t max_events = 0;
    int threads = 0;
    double track_pt_min = 1.0;
    std::string save_logits;
    std::string submissions;  // --events: also write each event's tracks here
};

/// The bin of `value` among the bins [edges[b], edges[b + 1]) (the last one open above).
size_t bin_of(const std::vector<double>& edges, double value) {
    size_t b = 0;
    while (b + 2 < edges.size() && value >= edges[b + 1]) ++b;
    return b;
}

/// A bin's upper edge for JSON: null for the open last bin.
nlohmann::json upper_edge(const std::vector<double>& edges, size_t b) {
    return b + 2 == edges.size() ? nlohmann::json(nullptr) : nlohmann::json(edges[b + 1]);
}

// Edge efficiency per pT bin of the true edge's particle.
const std::vector<double> kPtBins = {0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 1e9};
// Edge efficiency and purity by the radius of the edge's inner hit. The bin
// edges lie between the TrackML barrel layers (32, 72, 116, 172, 260, 360,
// 500, 660, 820, 1020 mm), so each bin holds the edges leaving one layer:
// where in the detector the classifier loses true segments or passes fakes.
const std::vector<double> kInnerRadiusBins = {0, 50, 95, 145, 215, 310, 430, 580, 740, 920, 1e9};

// Every edge figure of evaluation.json, filled event by event and reduced
// over ranks at the end (counts and histograms only).
class EdgeFigures {
public:
    EdgeFigures(const data::FeatureInfo& features, double cut)
        : cut_(cut),
          logit_cut_(static_cast<float>(std::log(cut / (1 - cut)))),
          r_col_(pipeline::feature_column(features.names, "r")),
          r_scale_(r_col_ >= 0 ? features.scale.at(static_cast<size_t>(r_col_)) : 1.0),
          pt_counts_(2 * (kPtBins.size() - 1), 0),
          r_counts_(4 * (kInnerRadiusBins.size() - 1), 0) {}

    void add(const std::vector<data::EventGraph>& graphs,
             const std::vector<std::vector<float>>& logits) {
        trainer::accumulate_edge_metrics(graphs, logits, 1.0, metrics_);
        for (size_t g = 0; g < graphs.size(); ++g) {
            const auto& graph = graphs[g];
            n_graphs_ += 1;
            for (int64_t e = 0; e < graph.n_edges(); ++e) {
                const bool passing = logits[g][e] > logit_cut_;
                const bool y = graph.y[e] != 0;
                if (y) {  // [true edges, found] per pT bin
                    const size_t b = bin_of(kPtBins, graph.pt[graph.senders[e]]);
                    pt_counts_[2 * b] += 1;
                    pt_counts_[2 * b + 1] += passing;
                }
                if (r_col_ < 0) continue;
                // [edges, true, true passing, fake passing] per radius bin
                const double r = graph.x[graph.senders[e] * graph.n_features + r_col_] * r_scale_;
                const size_t b = bin_of(kInnerRadiusBins, r);
                r_counts_[4 * b] += 1;
                r_counts_[4 * b + 1] += y;
                r_counts_[4 * b + 2] += y && passing;
                r_counts_[4 * b + 3] += !y && passing;
            }
        }
    }

    void allreduce(comm::Communicator& comm) {
        metrics_.allreduce(comm);
        comm.allreduce(pt_counts_.data(), pt_counts_.size());
        comm.allreduce(r_counts_.data(), r_counts_.size());
        n_graphs_ = comm.allreduce_value(n_graphs_);
    }

    int64_t n_graphs() const { return n_graphs_; }
    const trainer::EdgeMetrics& metrics() const { return metrics_; }

    nlohmann::json to_json() const {
        nlohmann::json roc = nlohmann::json::array();
        for (const auto& p : metrics_.roc(101))
            roc.push_back(
                {{"cut", p.cut}, {"fpr", p.false_positive_rate}, {"tpr", p.true_positive_rate}});
        // Score histograms at 100 bins for plots (merged from the fine ones).
        std::vector<double> hist_true(100, 0), hist_fake(100, 0);
        for (int b = 0; b < trainer::EdgeMetrics::kBins; ++b) {
            hist_true[b * 100 / trainer::EdgeMetrics::kBins] += metrics_.true_histogram()[b];
            hist_fake[b * 100 / trainer::EdgeMetrics::kBins] += metrics_.fake_histogram()[b];
        }
        nlohmann::json pt_bins = nlohmann::json::array();
        for (size_t b = 0; b + 1 < kPtBins.size(); ++b) {
            const int64_t n = pt_counts_[2 * b], found = pt_counts_[2 * b + 1];
            pt_bins.push_back({{"pt_low", kPtBins[b]},
                               {"pt_high", upper_edge(kPtBins, b)},
                               {"true_edges", n},
                               {"edge_efficiency", n > 0 ? double(found) / n : 0.0}});
        }
        nlohmann::json r_bins = nlohmann::json::array();
        for (size_t b = 0; b + 1 < kInnerRadiusBins.size(); ++b) {
            const int64_t n = r_counts_[4 * b], n_true = r_counts_[4 * b + 1];
            const int64_t found = r_counts_[4 * b + 2], fakes = r_counts_[4 * b + 3];
            if (n == 0) continue;
            r_bins.push_back(
                {{"r_low_mm", kInnerRadiusBins[b]},
                 {"r_high_mm", upper_edge(kInnerRadiusBins, b)},
                 {"edges", n},
                 {"true_edges", n_true},
                 {"passing_edges", found + fakes},
                 {"edge_efficiency", n_true > 0 ? double(found) / n_true : 0.0},
                 {"edge_purity", found + fakes > 0 ? double(found) / (found + fakes) : 0.0}});
        }
        return {{"n_graphs", n_graphs_},
                {"n_edges", metrics_.n_edges()},
                {"n_true_edges", metrics_.n_true()},
                {"cut", cut_},
                {"loss", metrics_.mean_loss()},
                {"edge_efficiency", metrics_.efficiency(cut_)},
                {"edge_purity", metrics_.purity(cut_)},
                {"auc", metrics_.auc()},
                {"roc", roc},
                {"edge_efficiency_vs_pt", pt_bins},
                {"edge_metrics_vs_inner_r", r_bins},
                {"score_histogram", {{"bins", 100}, {"true", hist_true}, {"fake", hist_fake}}}};
    }

private:
    double cut_;
    float logit_cut_;
    int r_col_;
    double r_scale_;
    trainer::EdgeMetrics metrics_;
    std::vector<int64_t> pt_counts_, r_counts_;
    int64_t n_graphs_ = 0;
};

/// Raw float32 logits of every edge in file order (for checks of exported models).
void save_logits(const std::string& path, const data::ShardedDataset& dataset,
                 const std::vector<std::vector<float>>& logits) {
    std::vector<size_t> order(dataset.graph_ids.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return dataset.graph_ids[a] < dataset.graph_ids[b]; });
    std::string bytes;
    for (size_t i : order)
        bytes.append(reinterpret_cast<const char*>(logits[i].data()),
                     logits[i].size() * sizeof(float));
    write_file_atomically(path, bytes, "logits file");
}

void write_report(const EvaluateOptions& opt, const nlohmann::json& report) {
    const auto path = fs::path(opt.out) / "evaluation.json";
    fs::create_directories(opt.out);
    write_file_atomically(path, report.dump(2) + "\n", "evaluation report");
}

pipeline::GnnEdgeClassifier::Config classifier_config(const EvaluateOptions& opt) {
    pipeline::GnnEdgeClassifier::Config c;
    c.batch_edges = opt.batch_edges;
    c.bfloat16 = opt.bf16;
    return c;
}

// --- evaluate --data FILE.h5 ------------------------------------------------

int run_on_graph_file(const EvaluateOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    std::unique_ptr<pipeline::Pipeline> pipe;
    data::ShardedDataset dataset;
    data::FeatureInfo features;
    comm.collectively([&] {
        HEPGNN_CHECK(opt.save_logits.empty() || comm.size() == 1,
                     "evaluate --save-logits writes one file: run it on one rank");
        auto tracks = std::make_unique<pipeline::TrackBuilder>(opt.tracks);
        auto classifier = load_checkpoint_classifier(opt.checkpoint, classifier_config(opt));
        features = data::GraphFile::open(opt.data).features();
        data::check_features_match(classifier->features(),
                                   fmt::format("checkpoint '{}'", opt.checkpoint), features,
                                   fmt::format("'{}'", opt.data));
        pipe =
            std::make_unique<pipeline::Pipeline>(nullptr, std::move(classifier), std::move(tracks));
        data::ShardOptions so;
        so.truth = true;
        so.whole_events = true;  // tracks cross section borders
        so.max_graphs = opt.max_graphs;
        dataset = data::load_shard(opt.data, comm.rank(), comm.size(), so);
    });

    // The pipeline runs event by event; each event's graphs go in and come back.
    std::map<int64_t, std::vector<size_t>> graphs_of;
    for (size_t i = 0; i < dataset.graphs.size(); ++i)
        graphs_of[dataset.graphs[i].event_id].push_back(i);
    EdgeFigures edges(features, opt.edge_cut);
    std::vector<std::vector<float>> logits(opt.save_logits.empty() ? 0 : dataset.graphs.size());
    pipeline::TrackMatchingConfig match;
    match.pt_min = opt.track_pt_min;
    match.min_hits = opt.tracks.min_hits;
    pipeline::TrackMetrics tm(match);
    comm.collectively([&] {
        for (const auto& [event_id, index] : graphs_of) {
            std::vector<data::EventGraph> graphs;
            for (size_t i : index) graphs.push_back(std::move(dataset.graphs[i]));
            auto rec = pipe->run_on_graphs(std::move(graphs));
            edges.add(rec.graphs, rec.logits);
            tm.merge(pipeline::match_tracks(match, rec.candidates.labels, rec.hits.particle_id,
                                            rec.hits.pt, rec.hits.eta));
            for (size_t k = 0; k < index.size(); ++k) {
                if (!logits.empty()) logits[index[k]] = std::move(rec.logits[k]);
                dataset.graphs[index[k]] = std::move(rec.graphs[k]);
            }
        }
        if (!opt.save_logits.empty()) save_logits(opt.save_logits, dataset, logits);
    });
    edges.allreduce(comm);
    auto counts = tm.to_counts();
    comm.allreduce(counts.data(), counts.size());
    tm.assign_counts(counts);
    if (!ctx.is_root()) return 0;

    nlohmann::json report = edges.to_json();
    report.update({{"checkpoint", opt.checkpoint},
                   {"data", opt.data},
                   {"track_method", opt.tracks.method},
                   {"track_cut", opt.tracks.cut},
                   {"track_seed_cut", opt.tracks.seed_cut},
                   {"track_pt_min", opt.track_pt_min},
                   {"track_min_hits", opt.tracks.min_hits},
                   {"track_efficiency", tm.track_efficiency()},
                   {"fake_rate", tm.fake_rate()},
                   {"duplicate_rate", tm.duplicate_rate()},
                   // Over the graphs' hits, unweighted: not the TrackML score (Note
                   // [Track matching]); evaluate --events reports that.
                   {"graph_hits_score", tm.unweighted_score()},
                   {"n_reconstructable_particles", tm.n_reconstructable},
                   {"n_reconstructed_particles", tm.n_reconstructed},
                   {"n_track_candidates", tm.n_candidates},
                   {"track_efficiency_vs_pt", efficiency_json(tm.efficiency_vs_pt)},
                   {"track_efficiency_vs_eta", efficiency_json(tm.efficiency_vs_eta)}});
    write_report(opt, report);
    const auto& m = edges.metrics();
    say(ctx,
        fmt::format("evaluate: {} graphs, {} edges: efficiency {:.4f}, purity {:.4f}, auc "
                    "{:.4f} at cut {}; tracks over the graphs' hits ({}, pT > {} GeV): "
                    "efficiency {:.4f}, fake rate {:.4f}, duplicate rate {:.4f}, "
                    "graph-hits score {:.4f} (for the TrackML score, evaluate --events) -> "
                    "{}",
                    edges.n_graphs(), m.n_edges(), m.efficiency(opt.edge_cut),
                    m.purity(opt.edge_cut), m.auc(), opt.edge_cut, opt.tracks.method,
                    opt.track_pt_min, tm.track_efficiency(), tm.fake_rate(), tm.duplicate_rate(),
                    tm.unweighted_score(), (fs::path(opt.out) / "evaluation.json").string()));
    return 0;
}

// --- evaluate --events DIR ----------------------------------------------------

// One event's score as fixed-size slots, so the events of all ranks reach
// rank 0 with two allreduces (every event is scored on exactly one rank).
struct EventSlots {
    static constexpr size_t kInts = 3, kDoubles = 2;  // trackml counts; weights
    size_t track_counts = 0;                          // TrackMetrics::to_counts() size
    size_t breakdown_values = 0;                      // WeightBreakdown::to_values() size
    size_t ints_per_event() const { return kInts + 2 * track_counts; }
    size_t doubles_per_event() const { return kDoubles + breakdown_values; }

    void put(const pipeline::EventScore& e, size_t k, std::vector<int64_t>& ints,
             std::vector<double>& doubles) const {
        int64_t* p = ints.data() + k * ints_per_event();
        p[0] = e.trackml.n_tracks;
        p[1] = e.trackml.n_matched;
        p[2] = e.trackml.n_matched_hits;
        const auto a = e.tracks.to_counts(), b = e.tracks_low.to_counts();
        std::copy(a.begin(), a.end(), p + kInts);
        std::copy(b.begin(), b.end(), p + kInts + track_counts);
        double* d = doubles.data() + k * doubles_per_event();
        d[0] = e.trackml.matched_weight;
        d[1] = e.trackml.total_weight;
        const auto w = e.weights.to_values();
        std::copy(w.begin(), w.end(), d + kDoubles);
    }

    pipeline::EventScore get(const pipeline::ScoreConfig& config, int64_t event_id, size_t k,
                             const std::vector<int64_t>& ints,
                             const std::vector<double>& doubles) const {
        const int64_t* p = ints.data() + k * ints_per_event();
        pipeline::EventScore e;
        e.event_id = event_id;
        e.trackml.n_tracks = p[0];
        e.trackml.n_matched = p[1];
        e.trackml.n_matched_hits = p[2];
        const double* d = doubles.data() + k * doubles_per_event();
        e.trackml.matched_weight = d[0];
        e.trackml.total_weight = d[1];
        e.weights = pipeline::WeightBreakdown(config.weight_pt_bins);
        e.weights.assign_values({d + kDoubles, d + doubles_per_event()});
        e.tracks = pipeline::TrackMetrics(config.matching(config.pt_min));
        e.tracks.assign_counts({p + kInts, p + kInts + track_counts});
        e.tracks_low = pipeline::TrackMetrics(config.matching(config.pt_min_low));
        e.tracks_low.assign_counts({p + kInts + track_counts, p + kInts + 2 * track_counts});
        return e;
    }
};

int run_on_events(const EvaluateOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    std::unique_ptr<pipeline::Pipeline> pipe;
    std::vector<int64_t> events;
    data::FeatureInfo features;
    comm.collectively([&] {
        HEPGNN_CHECK(opt.save_logits.empty(),
                     "evaluate --save-logits needs --data (graphs in file order), not --events");
        const Config config = Config::load(prepare_schema(), opt.config, opt.overrides);
        auto graphs =
            std::make_unique<pipeline::DetectorGraphConstruction>(graph_builder_config(config));
        auto tracks = std::make_unique<pipeline::TrackBuilder>(opt.tracks);
        std::unique_ptr<pipeline::EdgeClassification> classifier;
        features = graphs->features();
        if (opt.perfect_edges) {
            classifier = std::make_unique<pipeline::LabelEdgeClassifier>(
                pipeline::LabelEdgeClassifier::Config{});
        } else {
            classifier = load_checkpoint_classifier(opt.checkpoint, classifier_config(opt));
            data::check_features_match(
                classifier->features(), fmt::format("checkpoint '{}'", opt.checkpoint), features,
                opt.config.empty() ? std::string("graphs of the default --config")
                                   : fmt::format("graphs of --config '{}'", opt.config));
        }
        pipe = std::make_unique<pipeline::Pipeline>(std::move(graphs), std::move(classifier),
                                                    std::move(tracks));
        events = data::list_trackml_events(opt.events, opt.max_events);
        if (ctx.is_root() && !opt.submissions.empty()) fs::create_directories(opt.submissions);
    });

    // The figures of `hepgnn score --track-id-0 unassigned` on infer's
    // submissions: the same track ids, scored the same way.
    pipeline::ScoreConfig score_config;
    score_config.min_hits = opt.tracks.min_hits;
    score_config.pt_min = opt.track_pt_min;
    score_config.zero_is_unassigned = true;
    EventSlots slots;
    slots.track_counts = pipeline::TrackMetrics(score_config.matching(1.0)).to_counts().size();
    std::vector<int64_t> ints(events.size() * slots.ints_per_event(), 0);
    slots.breakdown_values =
        pipeline::WeightBreakdown(score_config.weight_pt_bins).to_values().size();
    std::vector<double> doubles(events.size() * slots.doubles_per_event(), 0.0);
    EdgeFigures edges(features, opt.edge_cut);
    comm.collectively([&] {
        for (size_t k = comm.rank(); k < events.size(); k += comm.size()) {
            const int64_t event_id = events[k];
            const std::string prefix =
                (fs::path(opt.events) / data::trackml_event_prefix(event_id)).string();
            for (const char* table : {"truth", "particles"}) {
                const std::string file = prefix + "-" + table + ".csv";
                HEPGNN_CHECK(fs::exists(file),
                             "{} is missing: evaluate --events scores the tracks of each event "
                             "against its truth and particles "
                             "(eventNNNNNNNNN-{{hits,truth,particles}}.csv, as 'hepgnn simulate' "
                             "writes them)",
                             file);
            }
            const data::TrackmlEvent event = data::read_trackml_event(opt.events, event_id);
            pipeline::EventReconstruction rec;
            if (opt.perfect_edges) {  // the labels must exist before they are the scores
                auto graphs = pipe->graph_construction().build(event_id, event.hits);
                pipeline::label_with_truth(graphs, event);
                rec = pipe->run_on_graphs(std::move(graphs));
            } else {
                rec = pipe->run(event_id, event.hits);
                pipeline::label_with_truth(rec.graphs, event);
            }
            edges.add(rec.graphs, rec.logits);
            std::vector<int64_t> hit_ids(event.hits.size());
            for (size_t i = 0; i < hit_ids.size(); ++i) hit_ids[i] = event.hits[i].hit_id;
            const auto rows = pipeline::make_submission(hit_ids, rec.labels_of(hit_ids));
            if (!opt.submissions.empty())
                pipeline::write_submission_csv(
                    fs::path(opt.submissions) /
                        (data::trackml_event_prefix(event_id) + "-submission.csv"),
                    event_id, rows);
            std::vector<int64_t> track_id(rows.size());
            for (size_t i = 0; i < rows.size(); ++i) track_id[i] = rows[i].track_id;
            const auto truth = pipeline::event_truth(event, prefix + "-{truth,particles}.csv");
            slots.put(pipeline::score_event(score_config, event_id, truth, track_id), k, ints,
                      doubles);
        }
    });
    edges.allreduce(comm);
    comm.allreduce(ints.data(), ints.size());
    comm.allreduce(doubles.data(), doubles.size());
    if (!ctx.is_root()) return 0;

    ScoreReport scores(score_config);
    for (size_t k = 0; k < events.size(); ++k)
        scores.add(slots.get(score_config, events[k], k, ints, doubles));
    nlohmann::json report = edges.to_json();
    report.update(scores.to_json());
    report.update({{"checkpoint",
                    opt.perfect_edges ? std::string("none: perfect edge scores") : opt.checkpoint},
                   {"perfect_edges", opt.perfect_edges},
                   {"input", opt.events},
                   {"config", opt.config},
                   {"track_method", opt.tracks.method},
                   {"track_cut", opt.tracks.cut},
                   {"track_seed_cut", opt.tracks.seed_cut},
                   {"track_pt_min", opt.track_pt_min},
                   {"track_min_hits", opt.tracks.min_hits},
                   {"edge_labels", "truth: consecutive trajectory steps of one particle"}});
    write_report(opt, report);
    const auto& m = edges.metrics();
    say(ctx, fmt::format("evaluate: {} events, {} graphs, {} edges: efficiency {:.4f}, purity "
                         "{:.4f}, auc {:.4f} at cut {}; tracks ({}) over all hits: TrackML "
                         "score {:.4f}, pT > {} GeV: efficiency {:.4f}, fake rate {:.4f}, "
                         "duplicate rate {:.4f}; pT > {} GeV: efficiency {:.4f} -> {}",
                         events.size(), edges.n_graphs(), m.n_edges(), m.efficiency(opt.edge_cut),
                         m.purity(opt.edge_cut), m.auc(), opt.edge_cut, opt.tracks.method,
                         scores.mean_score(), opt.track_pt_min, scores.total().track_efficiency(),
                         scores.total().fake_rate(), scores.total().duplicate_rate(),
                         score_config.pt_min_low, scores.total_low().track_efficiency(),
                         (fs::path(opt.out) / "evaluation.json").string()));
    note_if_seed_cut_left_nothing(ctx, "evaluate", opt.tracks, m.n_edges(),
                                  scores.total().n_candidates);
    std::string table = scores.weights_table();
    table.pop_back();  // say() ends the line
    say(ctx, "evaluate: " + table);
    return 0;
}

int run_evaluate(const EvaluateOptions& opt, Context& ctx) {
    ctx.comm->collectively([&] {
        HEPGNN_CHECK(!opt.data.empty() || !opt.events.empty(),
                     "evaluate needs --data FILE.h5 (graphs from prepare) or --events DIR "
                     "(TrackML events with truth, with the prepare --config of the model)");
        HEPGNN_CHECK(opt.perfect_edges ? !opt.events.empty() && opt.checkpoint.empty()
                                       : !opt.checkpoint.empty(),
                     "evaluate needs --checkpoint CKPT, or --perfect-edges with --events (the "
                     "score of the graphs' truth labels as edge scores: the graphs' ceiling)");
        HEPGNN_CHECK(opt.overrides.empty() || !opt.events.empty(),
                     "evaluate: --set overrides the prepare --config of --events; --data graphs "
                     "are already built");
    });
    if (opt.threads > 0) at::set_num_threads(opt.threads);
    return opt.events.empty() ? run_on_graph_file(opt, ctx) : run_on_events(opt, ctx);
}

}  // namespace

void add_evaluate_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<EvaluateOptions>();
    auto* eval = app.add_subcommand(
        "evaluate",
        "A trained model through the inference pipeline, on TrackML events with truth "
        "(--events: the TrackML score, track efficiency, fake and duplicate rates over all hits, "
        "as 'hepgnn score' reports them for infer's submissions) or on a graph file (--data: "
        "track metrics over the graphs' hits); edge metrics (efficiency, purity, AUC, ROC, "
        "efficiency vs pT) on both; writes OUT/evaluation.json (plot it with "
        "scripts/plot_evaluation.py)");
    eval->add_option(
        "--checkpoint", opt->checkpoint,
        "Checkpoint (e.g. OUT/checkpoints/best.ckpt); required unless --perfect-edges");
    eval->add_flag("--perfect-edges", opt->perfect_edges,
                   "With --events: score the truth labels as edge scores instead of a model: the "
                   "TrackML score the graphs and track building allow (their ceiling)");
    auto* data = eval->add_option("--data", opt->data, "Graph file (.h5) from prepare");
    auto* events = eval->add_option("--events", opt->events,
                                    "Folder of TrackML events with truth "
                                    "(eventNNNNNNNNN-{hits,truth,particles}.csv)");
    data->excludes(events);
    events->excludes(data);
    eval->add_option("--config", opt->config,
                     "--events: graph building config (the prepare YAML the model was trained "
                     "with)")
        ->needs(events);
    add_set_option(*eval, opt->overrides);
    eval->add_option("--out", opt->out, "Output folder")->capture_default_str();
    add_track_building_options(*eval, opt->tracks);
    eval->add_option("--edge-cut", opt->edge_cut,
                     "Score cut of the edge efficiency and purity (default: --cut when given, "
                     "else HEP.TrkX's 0.5, whatever track building's default cut)")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    eval->add_option("--batch-edges", opt->batch_edges, "Edges per inference batch")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    eval->add_flag("--bf16", opt->bf16, kBf16Help);
    eval->add_option("--max-graphs", opt->max_graphs,
                     "--data: use only the first N graphs (0: all)")
        ->needs(data);
    eval->add_option("--max-events", opt->max_events, "--events: use at most N events (0: all)")
        ->needs(events);
    eval->add_option("--threads", opt->threads, "Intra-op threads (0: torch default)");
    eval->add_option("--track-pt-min", opt->track_pt_min,
                     "Reconstructable particles have pT above this (GeV)")
        ->capture_default_str();
    eval->add_option("--save-logits", opt->save_logits,
                     "--data: also write every edge's logit (raw float32, file order; one rank)")
        ->needs(data);
    eval->add_option("--submissions", opt->submissions,
                     "--events: also write each event's tracks as a TrackML submission "
                     "(DIR/eventNNNNNNNNN-submission.csv, as infer does; score them with 'hepgnn "
                     "score')")
        ->needs(events);
    eval->callback([opt, eval, &selected] {
        if (eval->count("--cut") > 0 && eval->count("--edge-cut") == 0)
            opt->edge_cut = opt->tracks.cut;
        selected = [opt](Context& ctx) { return run_evaluate(*opt, ctx); };
    });
}

}  // namespace hepgnn::app
