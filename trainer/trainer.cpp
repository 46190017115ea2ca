#include "trainer/trainer.hpp"

#include <torch/torch.h>

#include <cmath>
#include <fstream>

#include "comm/communicator.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/stage_timer.hpp"
#include "data/load_balance.hpp"
#include "data/sharded_dataset.hpp"
#include "trainer/batch.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/inference.hpp"
#include "trainer/metrics_log.hpp"

namespace hepgnn::trainer {

// Note [Global loss normalisation]: each rank sums the per-edge loss of its
// part of a step and divides by the step's edge count over ALL ranks. The
// allreduced sum of the ranks' gradients is then exactly the gradient of the
// mean loss over the union of their graphs, whatever the split, so N ranks
// take the same steps as one process on the same global batches.

namespace {

std::vector<torch::Tensor> trainable(models::GnnModel& model) {
    return model.parameters(/*recurse=*/true);
}

/// Flat buffer of all gradients plus trailing scalars, allreduced in one call.
/// (The bucketed, overlapped reducer replaces this for multi-rank runs.)
void allreduce_gradients(std::vector<torch::Tensor>& params, std::vector<double>& scalars,
                         comm::Communicator& comm) {
    int64_t n = 0;
    for (auto& p : params) n += p.numel();
    std::vector<float> flat(static_cast<size_t>(n) + scalars.size());
    int64_t offset = 0;
    for (auto& p : params) {
        if (p.grad().defined()) {
            auto g = p.grad().contiguous();
            std::memcpy(flat.data() + offset, g.data_ptr<float>(), g.numel() * sizeof(float));
        }
        offset += p.numel();
    }
    for (size_t i = 0; i < scalars.size(); ++i) flat[offset + i] = static_cast<float>(scalars[i]);
    if (comm.size() > 1) comm.allreduce(flat.data(), flat.size());
    offset = 0;
    for (auto& p : params) {
        if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
        std::memcpy(p.grad().data_ptr<float>(), flat.data() + offset, p.numel() * sizeof(float));
        offset += p.numel();
    }
    for (size_t i = 0; i < scalars.size(); ++i) scalars[i] = flat[offset + i];
}

void broadcast_parameters(models::GnnModel& model, comm::Communicator& comm) {
    if (comm.size() == 1) return;
    torch::NoGradGuard no_grad;
    for (auto& p : model.parameters()) comm.broadcast(p.data_ptr<float>(), p.numel(), 0);
    for (auto& b : model.buffers())
        if (b.scalar_type() == torch::kFloat32) comm.broadcast(b.data_ptr<float>(), b.numel(), 0);
}

}  // namespace

TrainSummary train(const TrainerConfig& cfg, comm::Communicator& comm) {
    const bool root = comm.rank() == 0;
    Stopwatch total_clock;
    if (cfg.threads > 0) torch::set_num_threads(cfg.threads);
    torch::manual_seed(cfg.seed);

    const auto ckpt_dir = cfg.output_dir / "checkpoints";
    const auto last_path = ckpt_dir / "last.ckpt", best_path = ckpt_dir / "best.ckpt";

    // --- data: each rank reads only its shard.
    data::ShardedDataset train_set, valid_set;
    comm.collectively([&] {
        data::ShardOptions opt;
        opt.max_graphs = cfg.max_train_graphs;
        train_set = data::load_shard(cfg.train_file, comm.rank(), comm.size(), opt);
        HEPGNN_CHECK(train_set.global_graphs > 0 && train_set.global_edges > 0,
                     "{}: no graphs with edges to train on", cfg.train_file.string());
        HEPGNN_CHECK(train_set.n_features == cfg.model.input_dim,
                     "{}: graphs have {} node features but model.input_dim is {}",
                     cfg.train_file.string(), train_set.n_features, cfg.model.input_dim);
        if (!cfg.valid_file.empty()) {
            opt.max_graphs = cfg.max_valid_graphs;
            valid_set = data::load_shard(cfg.valid_file, comm.rank(), comm.size(), opt);
        }
    });

    // --- model, optimizer, and resume.
    auto model = models::make_model(cfg.model);
    auto params = trainable(*model);
    auto optimizer = make_optimizer(params, cfg.optimizer);
    CheckpointState state;
    state.model = cfg.model;
    bool resumed = false;
    comm.collectively([&] {
        if (cfg.resume == "auto" && std::filesystem::exists(last_path)) {
            state = load_checkpoint(last_path, *model, optimizer.get());
            resumed = true;
        }
        if (root) {
            std::filesystem::create_directories(ckpt_dir);
            std::ofstream(cfg.output_dir / "config.yaml") << cfg.config_yaml;
        }
    });
    broadcast_parameters(*model, comm);

    const int64_t local_edges = train_set.local_edges();
    const int64_t steps_per_epoch = comm.allreduce_value<int64_t>(
        (local_edges + cfg.batch_edges - 1) / cfg.batch_edges, comm::ReduceOp::kMax);
    LrSchedule schedule(cfg.optimizer, comm.size(), steps_per_epoch, cfg.epochs);

    std::unique_ptr<MetricsLog> log;
    if (root) log = std::make_unique<MetricsLog>(cfg.output_dir / "metrics.jsonl", resumed);
    if (root) {
        std::printf("train: %lld graphs (%lld edges) over %d rank(s), shard imbalance %.3f; "
                    "%lld steps/epoch; model %s with %lld parameters%s\n",
                    (long long)train_set.global_graphs, (long long)train_set.global_edges,
                    comm.size(), train_set.shard_imbalance, (long long)steps_per_epoch,
                    cfg.model.name.c_str(), (long long)models::count_parameters(*model),
                    resumed ? fmt::format("; resumed after epoch {}", state.epoch).c_str() : "");
        std::fflush(stdout);
    }

    std::vector<int64_t> costs;
    for (const auto& g : train_set.graphs) costs.push_back(g.n_edges());
    const auto pos_weight = torch::full({1}, cfg.pos_weight);

    TrainSummary summary;
    double rate_graphs_sum = 0, rate_edges_sum = 0;
    int rate_epochs = 0;
    for (int64_t epoch = state.epoch; epoch < cfg.epochs; ++epoch) {
        model->train();
        const auto plan = data::plan_epoch_steps(costs, steps_per_epoch, cfg.seed, epoch,
                                                 comm.rank());
        StageTimes times;
        Stopwatch epoch_clock;
        double epoch_loss_sum = 0, window_loss_sum = 0;
        int64_t epoch_edges = 0, epoch_graphs = 0, window_edges = 0, window_graphs = 0;
        Progress progress(fmt::format("epoch {}/{}", epoch + 1, cfg.epochs), steps_per_epoch,
                          Progress::config_for(stderr, root, "steps"));
        for (int64_t k = 0; k < steps_per_epoch; ++k) {
            std::vector<const data::EventGraph*> graphs;
            for (int64_t i : plan[k]) graphs.push_back(&train_set.graphs[i]);
            Batch batch;
            {
                ScopedStage t(times, "data");
                batch = make_batch(graphs);
            }
            const int64_t step_edges = comm.allreduce_value<int64_t>(batch.n_edges);
            double loss_sum = 0;
            optimizer->zero_grad();
            if (batch.n_edges > 0) {
                torch::Tensor loss;
                {
                    ScopedStage t(times, "forward");
                    auto logits = model->forward(batch.input);
                    auto sum = torch::binary_cross_entropy_with_logits(
                        logits, batch.y, {}, pos_weight, at::Reduction::Sum);
                    loss_sum = sum.item<double>();
                    loss = sum / double(step_edges);
                }
                ScopedStage t(times, "backward");
                loss.backward();
            }
            std::vector<double> scalars = {loss_sum, double(batch.n_graphs)};
            {
                ScopedStage t(times, "allreduce");
                allreduce_gradients(params, scalars, comm);
            }
            {
                ScopedStage t(times, "optimizer");
                if (cfg.optimizer.grad_clip > 0)
                    torch::nn::utils::clip_grad_norm_(params, cfg.optimizer.grad_clip);
                set_learning_rate(*optimizer, schedule.at(state.step));
                optimizer->step();
            }
            state.step += 1;
            epoch_loss_sum += scalars[0];
            window_loss_sum += scalars[0];
            epoch_edges += step_edges;
            window_edges += step_edges;
            epoch_graphs += static_cast<int64_t>(std::llround(scalars[1]));
            window_graphs += static_cast<int64_t>(std::llround(scalars[1]));
            if (root && ((k + 1) % cfg.log_every_steps == 0 || k + 1 == steps_per_epoch)) {
                log->write({{"epoch", epoch + 1},
                            {"step", state.step},
                            {"loss", window_loss_sum / std::max<int64_t>(1, window_edges)},
                            {"lr", schedule.at(state.step - 1)},
                            {"graphs", window_graphs},
                            {"edges", window_edges},
                            {"time_s", total_clock.seconds()}});
                window_loss_sum = 0;
                window_edges = window_graphs = 0;
            }
            progress.update(k + 1, fmt::format("loss {:.4f} | {:.1f} graphs/s",
                                               epoch_loss_sum / std::max<int64_t>(1, epoch_edges),
                                               epoch_graphs / epoch_clock.seconds()));
        }
        const double epoch_seconds = epoch_clock.seconds();
        progress.finish();
        summary.last_train_loss = epoch_loss_sum / std::max<int64_t>(1, epoch_edges);
        const double graphs_per_s = epoch_graphs / epoch_seconds;
        const double edges_per_s = epoch_edges / epoch_seconds;
        if (epoch > state.epoch || cfg.epochs - state.epoch == 1) {
            rate_graphs_sum += graphs_per_s;
            rate_edges_sum += edges_per_s;
            ++rate_epochs;
        }
        nlohmann::json stage_json;
        for (const auto& [name, s] : times.all()) stage_json[name + "_s"] = s;
        if (root) {
            log->write({{"epoch", epoch + 1},
                        {"step", state.step},
                        {"train_loss", summary.last_train_loss},
                        {"epoch_time_s", epoch_seconds},
                        {"graphs_per_s", graphs_per_s},
                        {"edges_per_s", edges_per_s},
                        {"stage_times", stage_json}});
        }

        // Validation over every rank's shard, reduced.
        double selection_loss = summary.last_train_loss;
        std::string valid_text;
        if (!cfg.valid_file.empty()) {
            EdgeMetrics metrics;
            const auto logits = predict_logits(*model, valid_set.graphs, cfg.batch_edges);
            accumulate_edge_metrics(valid_set.graphs, logits, cfg.pos_weight, metrics);
            metrics.allreduce(comm);
            summary.valid_loss = selection_loss = metrics.mean_loss();
            summary.edge_efficiency = metrics.efficiency(cfg.cut);
            summary.edge_purity = metrics.purity(cfg.cut);
            summary.auc = metrics.auc();
            if (root) {
                log->write({{"epoch", epoch + 1},
                            {"valid_loss", summary.valid_loss},
                            {"edge_efficiency", summary.edge_efficiency},
                            {"edge_purity", summary.edge_purity},
                            {"auc", summary.auc}});
            }
            valid_text = fmt::format(" | valid loss {:.4f} eff {:.4f} pur {:.4f} auc {:.4f}",
                                     summary.valid_loss, summary.edge_efficiency,
                                     summary.edge_purity, summary.auc);
        }
        state.epoch = epoch + 1;
        const bool is_best = !state.has_best || selection_loss < state.best_valid_loss;
        if (is_best) {
            state.has_best = true;
            state.best_valid_loss = selection_loss;
        }
        comm.collectively([&] {
            if (!root) return;
            save_checkpoint(last_path, *model, optimizer.get(), state);
            if (is_best) save_checkpoint(best_path, *model, nullptr, state);
        });
        if (root) {
            std::string stages;
            for (const auto& [name, s] : times.all())
                stages += fmt::format(" {} {:.1f}s", name, s);
            std::printf("epoch %lld/%lld: loss %.4f | %.1f graphs/s, %.0f edges/s | %s%s |%s\n",
                        (long long)(epoch + 1), (long long)cfg.epochs, summary.last_train_loss,
                        graphs_per_s, edges_per_s, format_duration(epoch_seconds).c_str(),
                        valid_text.c_str(), stages.c_str());
            std::fflush(stdout);
        }
        summary.epochs_done = epoch + 1;
    }
    summary.steps_done = state.step;
    summary.train_seconds = total_clock.seconds();
    if (rate_epochs > 0) {
        summary.graphs_per_s = rate_graphs_sum / rate_epochs;
        summary.edges_per_s = rate_edges_sum / rate_epochs;
    }
    return summary;
}

}  // namespace hepgnn::trainer
