// hepgnn evaluate: edge metrics (efficiency, purity, AUC, ROC, efficiency vs
// pT, efficiency and purity by the inner hit's radius) and track metrics (candidates from scored
// edges, matched to particles: efficiency, fake and duplicate rates, TrackML score) ->
// OUT/evaluation.json. Runs on N ranks: each holds whole events, and every figure is a reduced
// count.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>

#include "app/command.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/graph_file.hpp"
#include "data/sharded_dataset.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/inference.hpp"
#include "trainer/tracks/event_hits.hpp"
#include "trainer/tracks/track_building.hpp"
#include "trainer/tracks/track_matching.hpp"

namespace hepgnn::app {
namespace {

struct EvaluateOptions {
    std::string checkpoint;
    std::string data;
    std::string out = "evaluation";
    double cut = 0.5;
    int64_t batch_edges = 200000;
    int64_t max_graphs = 0;
    int threads = 0;
    std::string track_method = "walkthrough";
    double track_pt_min = 1.0;
    int min_hits = 3;
    std::string save_logits;
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

// Edge efficiency per pT bin of the true edge's particle, reducible over ranks.
const std::vector<double> kPtBins = {0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 1e9};

nlohmann::json edge_efficiency_vs_pt(const std::vector<data::EventGraph>& graphs,
                                     const std::vector<std::vector<float>>& logits, double cut,
                                     comm::Communicator& comm) {
    const size_t n_bins = kPtBins.size() - 1;
    std::vector<int64_t> counts(2 * n_bins, 0);  // [true edges, found] per bin
    const float logit_cut = static_cast<float>(std::log(cut / (1 - cut)));
    for (size_t g = 0; g < graphs.size(); ++g) {
        const auto& graph = graphs[g];
        for (int64_t e = 0; e < graph.n_edges(); ++e) {
            if (!graph.y[e]) continue;
            const size_t b = bin_of(kPtBins, graph.pt[graph.senders[e]]);
            counts[2 * b] += 1;
            counts[2 * b + 1] += logits[g][e] > logit_cut;
        }
    }
    comm.allreduce(counts.data(), counts.size());
    nlohmann::json bins = nlohmann::json::array();
    for (size_t b = 0; b < n_bins; ++b) {
        const int64_t n = counts[2 * b], found = counts[2 * b + 1];
        bins.push_back({{"pt_low", kPtBins[b]},
                        {"pt_high", upper_edge(kPtBins, b)},
                        {"true_edges", n},
                        {"edge_efficiency", n > 0 ? double(found) / n : 0.0}});
    }
    return bins;
}

// Edge efficiency and purity by the radius of the edge's inner hit, reducible over ranks. The
// bin edges lie between the TrackML barrel layers (32, 72, 116, 172, 260, 360, 500, 660, 820,
// 1020 mm), so each bin holds the edges leaving one layer: where in the detector the classifier
// loses true segments or passes fakes.
const std::vector<double> kInnerRadiusBins = {0, 50, 95, 145, 215, 310, 430, 580, 740, 920, 1e9};

nlohmann::json edge_metrics_vs_inner_r(const std::vector<data::EventGraph>& graphs,
                                       const std::vector<std::vector<float>>& logits,
                                       const data::FeatureInfo& features, double cut,
                                       comm::Communicator& comm) {
    const size_t n_bins = kInnerRadiusBins.size() - 1;
    const int r_col = tracks::feature_column(features.names, "r");
    const double r_scale = features.scale.at(static_cast<size_t>(r_col));
    std::vector<int64_t> counts(4 * n_bins, 0);  // [edges, true, true passing, fake passing]
    const float logit_cut = static_cast<float>(std::log(cut / (1 - cut)));
    for (size_t g = 0; g < graphs.size(); ++g) {
        const auto& graph = graphs[g];
        for (int64_t e = 0; e < graph.n_edges(); ++e) {
            const double r = graph.x[graph.senders[e] * graph.n_features + r_col] * r_scale;
            const size_t b = bin_of(kInnerRadiusBins, r);
            const bool passing = logits[g][e] > logit_cut;
            counts[4 * b] += 1;
            counts[4 * b + 1] += graph.y[e];
            counts[4 * b + 2] += graph.y[e] && passing;
            counts[4 * b + 3] += !graph.y[e] && passing;
        }
    }
    comm.allreduce(counts.data(), counts.size());
    nlohmann::json bins = nlohmann::json::array();
    for (size_t b = 0; b < n_bins; ++b) {
        const int64_t n = counts[4 * b], n_true = counts[4 * b + 1];
        const int64_t found = counts[4 * b + 2], fakes = counts[4 * b + 3];
        if (n == 0) continue;
        bins.push_back(
            {{"r_low_mm", kInnerRadiusBins[b]},
             {"r_high_mm", upper_edge(kInnerRadiusBins, b)},
             {"edges", n},
             {"true_edges", n_true},
             {"passing_edges", found + fakes},
             {"edge_efficiency", n_true > 0 ? double(found) / n_true : 0.0},
             {"edge_purity", found + fakes > 0 ? double(found) / (found + fakes) : 0.0}});
    }
    return bins;
}

/// Track candidates of every event of this rank, matched and reduced over ranks.
tracks::TrackMetrics track_metrics(const EvaluateOptions& opt, const data::FeatureInfo& features,
                                   const std::vector<data::EventGraph>& graphs,
                                   const std::vector<std::vector<float>>& logits,
                                   comm::Communicator& comm) {
    const auto events =
        tracks::merge_event_graphs(graphs, logits, tracks::feature_column(features.names, "r"),
                                   tracks::feature_column(features.names, "z"));
    tracks::TrackBuilder builder({opt.cut, opt.min_hits, opt.track_method});
    tracks::TrackMatchingConfig match;
    match.pt_min = opt.track_pt_min;
    match.min_hits = opt.min_hits;
    tracks::TrackMetrics total(match);
    for (const auto& ev : events) {
        const auto candidates =
            builder.build(static_cast<int64_t>(ev.hit_id.size()), ev.senders.data(),
                          ev.receivers.data(), ev.scores.data(), ev.scores.size());
        total.merge(tracks::match_tracks(match, candidates.labels, ev.particle_id, ev.pt, ev.eta));
    }
    auto counts = total.to_counts();
    comm.allreduce(counts.data(), counts.size());
    total.assign_counts(counts);
    return total;
}

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

/// Raw float32 logits of every edge in file order (for checks of exported models).
void save_logits(const std::string& path, const data::ShardedDataset& dataset,
                 const std::vector<std::vector<float>>& logits) {
    std::vector<size_t> order(dataset.graph_ids.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return dataset.graph_ids[a] < dataset.graph_ids[b]; });
    replace_file_atomically(path, [&](const std::filesystem::path& tmp) {
        std::ofstream out(tmp, std::ios::binary);
        for (size_t i : order)
            out.write(reinterpret_cast<const char*>(logits[i].data()),
                      static_cast<std::streamsize>(logits[i].size() * sizeof(float)));
        HEPGNN_CHECK(out.good(), "cannot write '{}'", path);
    });
}

int run_evaluate(const EvaluateOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    if (opt.threads > 0) at::set_num_threads(opt.threads);
    std::shared_ptr<models::GnnModel> model;
    data::ShardedDataset dataset;
    data::FeatureInfo features;
    comm.collectively([&] {
        HEPGNN_CHECK(opt.save_logits.empty() || comm.size() == 1,
                     "evaluate --save-logits writes one file: run it on one rank");
        tracks::TrackBuilder check_config({opt.cut, opt.min_hits, opt.track_method});
        trainer::CheckpointState state;
        model = trainer::load_model(opt.checkpoint, &state);
        features = data::GraphFile::open(opt.data).features();
        data::check_features_match(state.features, fmt::format("checkpoint '{}'", opt.checkpoint),
                                   features, fmt::format("'{}'", opt.data));
        data::ShardOptions so;
        so.truth = true;
        so.whole_events = true;  // tracks cross section borders
        so.max_graphs = opt.max_graphs;
        dataset = data::load_shard(opt.data, comm.rank(), comm.size(), so);
        HEPGNN_CHECK(dataset.n_features == model->config().input_dim,
                     "{}: graphs have {} features but the model expects {}", opt.data,
                     dataset.n_features, model->config().input_dim);
    });

    const auto logits = trainer::predict_logits(*model, dataset.graphs, opt.batch_edges);
    if (!opt.save_logits.empty()) save_logits(opt.save_logits, dataset, logits);
    trainer::EdgeMetrics metrics;
    trainer::accumulate_edge_metrics(dataset.graphs, logits, 1.0, metrics);
    metrics.allreduce(comm);
    const auto pt_bins = edge_efficiency_vs_pt(dataset.graphs, logits, opt.cut, comm);
    const auto r_bins = edge_metrics_vs_inner_r(dataset.graphs, logits, features, opt.cut, comm);
    tracks::TrackMetrics tm;
    comm.collectively([&] { tm = track_metrics(opt, features, dataset.graphs, logits, comm); });
    const int64_t n_graphs = comm.allreduce_value<int64_t>(dataset.graphs.size());
    if (!ctx.is_root()) return 0;

    nlohmann::json roc = nlohmann::json::array();
    for (const auto& p : metrics.roc(101))
        roc.push_back(
            {{"cut", p.cut}, {"fpr", p.false_positive_rate}, {"tpr", p.true_positive_rate}});
    // Score histograms at 100 bins for plots (merged from the fine ones).
    std::vector<double> hist_true(100, 0), hist_fake(100, 0);
    for (int b = 0; b < trainer::EdgeMetrics::kBins; ++b) {
        hist_true[b * 100 / trainer::EdgeMetrics::kBins] += metrics.true_histogram()[b];
        hist_fake[b * 100 / trainer::EdgeMetrics::kBins] += metrics.fake_histogram()[b];
    }
    const nlohmann::json report = {
        {"checkpoint", opt.checkpoint},
        {"data", opt.data},
        {"n_graphs", n_graphs},
        {"n_edges", metrics.n_edges()},
        {"n_true_edges", metrics.n_true()},
        {"cut", opt.cut},
        {"loss", metrics.mean_loss()},
        {"edge_efficiency", metrics.efficiency(opt.cut)},
        {"edge_purity", metrics.purity(opt.cut)},
        {"auc", metrics.auc()},
        {"roc", roc},
        {"edge_efficiency_vs_pt", pt_bins},
        {"edge_metrics_vs_inner_r", r_bins},
        {"score_histogram", {{"bins", 100}, {"true", hist_true}, {"fake", hist_fake}}},
        {"track_method", opt.track_method},
        {"track_pt_min", opt.track_pt_min},
        {"track_min_hits", opt.min_hits},
        {"track_efficiency", tm.track_efficiency()},
        {"fake_rate", tm.fake_rate()},
        {"duplicate_rate", tm.duplicate_rate()},
        {"trackml_score", tm.trackml_score()},
        {"n_reconstructable_particles", tm.n_reconstructable},
        {"n_reconstructed_particles", tm.n_reconstructed},
        {"n_track_candidates", tm.n_candidates},
        {"track_efficiency_vs_pt", efficiency_json(tm.efficiency_vs_pt)},
        {"track_efficiency_vs_eta", efficiency_json(tm.efficiency_vs_eta)}};
    const auto path = std::filesystem::path(opt.out) / "evaluation.json";
    std::filesystem::create_directories(opt.out);
    replace_file_atomically(path, [&](const std::filesystem::path& tmp) {
        std::ofstream(tmp) << report.dump(2) << "\n";
    });
    say(ctx, fmt::format("evaluate: {} graphs, {} edges: efficiency {:.4f}, purity {:.4f}, auc "
                         "{:.4f} at cut {}; tracks ({}, pT > {} GeV): efficiency {:.4f}, fake "
                         "rate {:.4f}, duplicate rate {:.4f}, TrackML score {:.4f} -> {}",
                         n_graphs, metrics.n_edges(), metrics.efficiency(opt.cut),
                         metrics.purity(opt.cut), metrics.auc(), opt.cut, opt.track_method,
                         opt.track_pt_min, tm.track_efficiency(), tm.fake_rate(),
                         tm.duplicate_rate(), tm.trackml_score(), path.string()));
    return 0;
}

}  // namespace

void add_evaluate_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<EvaluateOptions>();
    auto* eval = app.add_subcommand(
        "evaluate",
        "Edge metrics (efficiency, purity, AUC, ROC, efficiency vs pT) and track metrics "
        "(efficiency, fake and duplicate rates, TrackML score) of a trained model on a graph "
        "file; writes OUT/evaluation.json (plot it with scripts/plot_evaluation.py)");
    eval->add_option("--checkpoint", opt->checkpoint, "Checkpoint (e.g. OUT/checkpoints/best.ckpt)")
        ->required();
    eval->add_option("--data", opt->data, "Graph file (.h5)")->required();
    eval->add_option("--out", opt->out, "Output folder")->capture_default_str();
    eval->add_option("--cut", opt->cut, "Score cut for edges and track building")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    eval->add_option("--batch-edges", opt->batch_edges, "Edges per inference batch")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    eval->add_option("--max-graphs", opt->max_graphs, "Use only the first N graphs (0: all)");
    eval->add_option("--threads", opt->threads, "Intra-op threads (0: torch default)");
    eval->add_option("--track-method", opt->track_method,
                     "components (connected components of edges above the cut) | walkthrough "
                     "(also resolves junctions: best edge in and out of each hit)")
        ->check(CLI::IsMember({"components", "walkthrough"}))
        ->capture_default_str();
    eval->add_option("--track-pt-min", opt->track_pt_min,
                     "Reconstructable particles have pT above this (GeV)")
        ->capture_default_str();
    eval->add_option("--min-hits", opt->min_hits,
                     "Hits of reconstructable particles and of counted track candidates")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    eval->add_option("--save-logits", opt->save_logits,
                     "Also write every edge's logit (raw float32, file order; one rank)");
    eval->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_evaluate(*opt, ctx); }; });
}

}  // namespace hepgnn::app
