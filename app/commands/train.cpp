// hepgnn train and hepgnn evaluate (edge metrics).
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <memory>

#include "app/command.hpp"
#include "app/training_config.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/stop_signal.hpp"
#include "data/sharded_dataset.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/inference.hpp"
#include "trainer/trainer.hpp"

namespace hepgnn::app {
namespace {

struct TrainOptions {
    std::string config;
    std::vector<std::string> overrides;
};

int run_train(const TrainOptions& opt, Context& ctx) {
    const Config config = Config::load(training_schema(), opt.config, opt.overrides);
    auto trainer_cfg = trainer_config(config);
    trainer_cfg.local_rank = ctx.launch.local_rank;
    install_stop_signal_handlers();
    const auto summary = trainer::train(trainer_cfg, *ctx.comm);
    if (summary.stop_signal != 0) return kExitPreempted;  // the trainer said where it stopped
    say(ctx,
        fmt::format(
            "train: {} epochs, {} steps in {:.1f} s; final train loss {:.4f}{}",
            summary.epochs_done, summary.steps_done, summary.train_seconds, summary.last_train_loss,
            summary.auc > 0 ? fmt::format("; valid efficiency {:.4f} purity {:.4f} "
                                          "auc {:.4f}",
                                          summary.edge_efficiency, summary.edge_purity, summary.auc)
                            : ""));
    return 0;
}

struct EvaluateOptions {
    std::string checkpoint;
    std::string data;
    std::string out = "evaluation";
    double cut = 0.5;
    int64_t batch_edges = 200000;
    int64_t max_graphs = 0;
    int threads = 0;
};

// Edge efficiency per pT bin of the true edge's particle, reducible over ranks.
const std::vector<double> kPtBins = {0.0, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 1e9};

int run_evaluate(const EvaluateOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    if (opt.threads > 0) at::set_num_threads(opt.threads);
    std::shared_ptr<models::GnnModel> model;
    data::ShardedDataset dataset;
    comm.collectively([&] {
        const auto state = trainer::read_checkpoint_state(opt.checkpoint);
        model = models::make_model(state.model);
        trainer::load_checkpoint(opt.checkpoint, *model, nullptr);
        data::ShardOptions so;
        so.truth = true;
        so.max_graphs = opt.max_graphs;
        dataset = data::load_shard(opt.data, comm.rank(), comm.size(), so);
        HEPGNN_CHECK(dataset.n_features == state.model.input_dim,
                     "{}: graphs have {} features but the model expects {}", opt.data,
                     dataset.n_features, state.model.input_dim);
    });

    const auto logits = trainer::predict_logits(*model, dataset.graphs, opt.batch_edges);
    trainer::EdgeMetrics metrics;
    trainer::accumulate_edge_metrics(dataset.graphs, logits, 1.0, metrics);
    metrics.allreduce(comm);
    const size_t n_bins = kPtBins.size() - 1;
    std::vector<int64_t> pt_counts(2 * n_bins, 0);  // [true edges, found] per bin
    for (size_t g = 0; g < dataset.graphs.size(); ++g) {
        const auto& graph = dataset.graphs[g];
        for (int64_t e = 0; e < graph.n_edges(); ++e) {
            if (!graph.y[e]) continue;
            const float pt = graph.pt[graph.senders[e]];
            size_t b = 0;
            while (b + 1 < n_bins && pt >= kPtBins[b + 1]) ++b;
            pt_counts[2 * b] += 1;
            if (1.0 / (1.0 + std::exp(-logits[g][e])) >= opt.cut) pt_counts[2 * b + 1] += 1;
        }
    }
    comm.allreduce(pt_counts.data(), pt_counts.size());
    const int64_t n_graphs = comm.allreduce_value<int64_t>(dataset.graphs.size());
    if (!ctx.is_root()) return 0;

    nlohmann::json roc = nlohmann::json::array();
    for (const auto& p : metrics.roc(101))
        roc.push_back(
            {{"cut", p.cut}, {"fpr", p.false_positive_rate}, {"tpr", p.true_positive_rate}});
    nlohmann::json pt_bins = nlohmann::json::array();
    for (size_t b = 0; b < n_bins; ++b) {
        const int64_t n = pt_counts[2 * b], found = pt_counts[2 * b + 1];
        pt_bins.push_back({{"pt_low", kPtBins[b]},
                           {"pt_high", b + 1 == n_bins ? nlohmann::json(nullptr)
                                                       : nlohmann::json(kPtBins[b + 1])},
                           {"true_edges", n},
                           {"edge_efficiency", n > 0 ? double(found) / n : 0.0}});
    }
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
        {"score_histogram", {{"bins", 100}, {"true", hist_true}, {"fake", hist_fake}}}};
    const auto path = std::filesystem::path(opt.out) / "evaluation.json";
    replace_file_atomically(path, [&](const std::filesystem::path& tmp) {
        std::ofstream(tmp) << report.dump(2) << "\n";
    });
    say(ctx, fmt::format("evaluate: {} graphs, {} edges: efficiency {:.4f}, purity {:.4f}, auc "
                         "{:.4f} at cut {} -> {}",
                         n_graphs, metrics.n_edges(), metrics.efficiency(opt.cut),
                         metrics.purity(opt.cut), metrics.auc(), opt.cut, path.string()));
    return 0;
}

}  // namespace

void add_training_commands(CLI::App& app, Runner& selected) {
    auto topt = std::make_shared<TrainOptions>();
    auto* train = app.add_subcommand(
        "train",
        "Train a GNN edge classifier on event graphs; run under mpirun/srun for data-parallel "
        "training.\nConfig keys (YAML sections, or --set section.key=value):\n" +
            training_schema().describe());
    train->add_option("--config", topt->config, "Training config (YAML)")->required();
    add_set_option(*train, topt->overrides);
    train->callback(
        [topt, &selected] { selected = [topt](Context& ctx) { return run_train(*topt, ctx); }; });

    auto eopt = std::make_shared<EvaluateOptions>();
    auto* eval = app.add_subcommand(
        "evaluate",
        "Edge metrics (efficiency, purity, AUC, ROC, efficiency vs pT) of a trained "
        "model on a graph file; writes OUT/evaluation.json");
    eval->add_option("--checkpoint", eopt->checkpoint,
                     "Checkpoint (e.g. OUT/checkpoints/best.ckpt)")
        ->required();
    eval->add_option("--data", eopt->data, "Graph file (.h5)")->required();
    eval->add_option("--out", eopt->out, "Output folder")->capture_default_str();
    eval->add_option("--cut", eopt->cut, "Score cut")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    eval->add_option("--batch-edges", eopt->batch_edges, "Edges per inference batch")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    eval->add_option("--max-graphs", eopt->max_graphs, "Use only the first N graphs (0: all)");
    eval->add_option("--threads", eopt->threads, "Intra-op threads (0: torch default)");
    eval->callback([eopt, &selected] {
        selected = [eopt](Context& ctx) { return run_evaluate(*eopt, ctx); };
    });
}

}  // namespace hepgnn::app
