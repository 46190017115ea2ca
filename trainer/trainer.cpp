#include "trainer/trainer.hpp"

#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "comm/communicator.hpp"
#include "comm/nccl_communicator.hpp"
#include "core/allocator_policy.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "core/stage_timer.hpp"
#include "core/stop_signal.hpp"
#include "data/load_balance.hpp"
#include "data/prefetcher.hpp"
#include "data/sharded_dataset.hpp"
#include "models/cpu_caching_allocator.hpp"
#include "trainer/checkpoint.hpp"
#include "trainer/epoch_plan.hpp"
#include "trainer/inference.hpp"
#include "trainer/metrics_log.hpp"
#include "trainer/train_step.hpp"

namespace hepgnn::trainer {

// Note [Global loss normalisation]: each rank sums the per-edge loss of its
// part of a step and divides by the step's edge count over ALL ranks. The
// allreduced sum of the ranks' gradients is then exactly the gradient of the
// mean loss over the union of their graphs, whatever the split, so N ranks
// take the same steps as one process on the same global batches.

namespace {

/// Fails loudly when the ranks' parameters differ (a silent divergence would
/// make every later step meaningless). Cheap: two numbers per rank.
void check_parameters_agree(models::GnnModel& model, comm::Communicator& comm, int64_t step) {
    double sums[2] = {0, 0};
    for (const auto& p : model.parameters()) {
        sums[0] += p.sum().item<double>();
        sums[1] += p.abs().sum().item<double>();
    }
    double lo[2] = {sums[0], sums[1]}, hi[2] = {sums[0], sums[1]};
    comm.allreduce(lo, 2, comm::ReduceOp::kMin);
    comm.allreduce(hi, 2, comm::ReduceOp::kMax);
    HEPGNN_CHECK(lo[0] == hi[0] && lo[1] == hi[1],
                 "parameters differ across ranks at step {} (checksum spread {:.3g}): ranks ran "
                 "different code or data, or a gradient allreduce failed silently",
                 step, hi[1] - lo[1]);
}

// Over `comm`, which is MPI (host memory; Note [Host and device collectives]
// in comm/gradient_reducer.hpp): a tensor on a GPU goes through a host copy.
void broadcast_tensor(torch::Tensor& t, comm::Communicator& comm) {
    if (t.is_cpu()) {
        comm.broadcast(t.data_ptr<float>(), t.numel(), 0);
        return;
    }
    auto host = t.to(torch::kCPU).contiguous();
    comm.broadcast(host.data_ptr<float>(), host.numel(), 0);
    t.copy_(host);
}

void broadcast_parameters(models::GnnModel& model, comm::Communicator& comm) {
    if (comm.size() == 1) return;
    torch::NoGradGuard no_grad;
    for (auto& p : model.parameters()) broadcast_tensor(p, comm);
    for (auto& b : model.buffers())
        if (b.scalar_type() == torch::kFloat32) broadcast_tensor(b, comm);
}

struct FileCloser {
    void operator()(std::FILE* f) const {
        if (f) std::fclose(f);
    }
};
using TraceFile = std::unique_ptr<std::FILE, FileCloser>;

// HEPGNN_TRACE_STEPS=DIR: each rank appends "epoch step graph" lines, one per
// graph it trains, to DIR/rank<R>.txt (how the tests check Note [Elastic resume]).
TraceFile open_step_trace(int rank) {
    const char* dir = std::getenv("HEPGNN_TRACE_STEPS");
    if (!dir || !*dir) return nullptr;
    std::filesystem::create_directories(dir);
    const auto path = std::filesystem::path(dir) / fmt::format("rank{}.txt", rank);
    TraceFile f(std::fopen(path.c_str(), "a"));
    HEPGNN_CHECK(f != nullptr, "HEPGNN_TRACE_STEPS: cannot open '{}'", path.string());
    return f;
}

void trace_step(std::FILE* f, const EpochPlan& plan, int64_t step, int64_t epoch,
                const std::vector<int64_t>& graph_ids) {
    for (int64_t i : plan.steps[step - plan.first_step])
        std::fprintf(f, "%lld %lld %lld\n", (long long)(epoch + 1), (long long)step,
                     (long long)graph_ids[i]);
    std::fflush(f);
}

// --- The stages of train(), in order.

/// Set-up: threads, seed, heap policy, and the device and back-end, checked
/// on every rank before any data is read.
struct RunSetup {
    torch::Device device{torch::kCPU};
    bool use_nccl = false;
    Precision precision = Precision::float32;
    std::filesystem::path last_path, best_path;
};

RunSetup set_up(const TrainerConfig& cfg, comm::Communicator& comm) {
    comm.set_deadlines(cfg.deadlines);
    if (cfg.threads > 0) torch::set_num_threads(cfg.threads);
    torch::manual_seed(cfg.seed);
    if (wants_caching_allocator(cfg.model.checkpointing))  // Note [Allocator policy]
        models::install_cpu_caching_allocator();

    // NCCL reduces device buffers, so it goes with cuda.
    RunSetup setup;
    const bool cuda = cfg.device == "cuda";
    setup.use_nccl = cfg.backend == "nccl" || (cfg.backend == "auto" && cuda);
    comm.throw_if_any_failed(
        (cuda || setup.use_nccl) && !torch::cuda::is_available()
            ? std::string("training.device cuda / distributed.backend nccl need a GPU, but this "
                          "libtorch has no CUDA support or no GPU is visible; use "
                          "training.device: cpu and distributed.backend: mpi")
            : std::string());
    HEPGNN_CHECK(!setup.use_nccl || cuda,
                 "distributed.backend nccl reduces GPU buffers: set training.device: cuda");
    setup.device =
        cuda ? torch::Device(torch::kCUDA,
                             cfg.local_rank % std::max<int64_t>(1, torch::cuda::device_count()))
             : torch::Device(torch::kCPU);
    setup.precision = parse_precision(cfg.precision);
    check_precision_supported(setup.precision, setup.device);
    setup.last_path = cfg.output_dir / "checkpoints" / "last.ckpt";
    setup.best_path = cfg.output_dir / "checkpoints" / "best.ckpt";
    return setup;
}

/// Data: each rank reads only its shard of the training and validation files, graph by graph
/// straight into blosc-compressed stores (a background thread, data::Prefetcher, decompresses
/// the next step's graphs while one computes): a rank never holds its raw shard, so its peak
/// memory is the compressed shards plus one step's working set.
struct TrainingData {
    data::ShardedDataset train, valid;  // what was read; their graphs live in the stores
    std::unique_ptr<data::CompressedGraphStore> train_store, valid_store;
    double raw_bytes = 0, compressed_bytes = 0;  // of the training store, over all ranks
    double ratio() const { return compressed_bytes > 0 ? raw_bytes / compressed_bytes : 1.0; }
};

TrainingData load_data(const TrainerConfig& cfg, comm::Communicator& comm) {
    TrainingData d;
    comm.collectively([&] {
        d.train_store = std::make_unique<data::CompressedGraphStore>(cfg.store);
        d.valid_store = std::make_unique<data::CompressedGraphStore>(cfg.store);
        data::ShardOptions opt;
        opt.max_graphs = cfg.max_train_graphs;
        opt.truth = cfg.edge_weights.enabled();  // weights come from particle ids and pT
        d.train = data::load_shard(cfg.train_file, comm.rank(), comm.size(), opt,
                                   [&](data::EventGraph&& g) { d.train_store->add(g); });
        HEPGNN_CHECK(d.train.global_graphs > 0 && d.train.global_edges > 0,
                     "{}: no graphs with edges to train on", cfg.train_file.string());
        HEPGNN_CHECK(d.train.n_features == cfg.model.input_dim,
                     "{}: graphs have {} node features but model.input_dim is {}",
                     cfg.train_file.string(), d.train.n_features, cfg.model.input_dim);
        if (!cfg.valid_file.empty()) {
            opt.max_graphs = cfg.max_valid_graphs;
            opt.truth = false;  // validation reports edge figures only
            d.valid = data::load_shard(cfg.valid_file, comm.rank(), comm.size(), opt,
                                       [&](data::EventGraph&& g) { d.valid_store->add(g); });
            HEPGNN_CHECK(d.valid.features.same_as(d.train.features),
                         "{} holds features {} but the training data {} holds {}; prepare both "
                         "with the same feature_scale",
                         cfg.valid_file.string(), d.valid.features.describe(),
                         cfg.train_file.string(), d.train.features.describe());
        }
    });
    double bytes[2] = {double(d.train_store->raw_bytes()),
                       double(d.train_store->compressed_bytes())};
    comm.allreduce(bytes, 2);
    d.raw_bytes = bytes[0];
    d.compressed_bytes = bytes[1];
    if (comm.rank() == 0) {
        std::printf(
            "train: store %s: %.1f MB raw, %.1f MB compressed (ratio %.2f) over all ranks\n",
            cfg.store.codec.c_str(), bytes[0] / 1e6, bytes[1] / 1e6, d.ratio());
        std::fflush(stdout);
    }
    return d;
}

/// Model, optimizer, and resume from last.ckpt (training.resume: auto).
struct ModelState {
    std::shared_ptr<models::GnnModel> model;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    CheckpointState state;
    bool resumed = false;
};

ModelState build_model_and_resume(const TrainerConfig& cfg, comm::Communicator& comm,
                                  const RunSetup& setup, const data::ShardedDataset& train_set) {
    ModelState m;
    m.state.model = cfg.model;
    m.state.features = train_set.features;
    comm.collectively([&] {
        m.model = models::make_model(cfg.model);
        m.model->to(setup.device);
        m.optimizer = make_optimizer(m.model->parameters(), cfg.optimizer);
        if (cfg.resume == "auto" && std::filesystem::exists(setup.last_path)) {
            m.state = load_checkpoint(setup.last_path, *m.model, m.optimizer.get());
            const auto& done = m.state.in_epoch.done_graphs;
            HEPGNN_CHECK(done.empty() || done.back() < train_set.global_graphs,
                         "checkpoint '{}' lists graph {} as trained, but '{}' has {} graphs: "
                         "resume with the data it was trained on",
                         setup.last_path.string(), done.empty() ? 0 : done.back(),
                         cfg.train_file.string(), train_set.global_graphs);
            data::check_features_match(
                m.state.features, fmt::format("checkpoint '{}'", setup.last_path.string()),
                train_set.features, fmt::format("'{}'", cfg.train_file.string()));
            m.state.features = train_set.features;
            m.resumed = true;
        }
        if (comm.rank() == 0) {
            std::filesystem::create_directories(setup.last_path.parent_path());
            write_file_atomically(cfg.output_dir / "config.yaml", cfg.config_yaml, "config copy");
        }
    });
    broadcast_parameters(*m.model, comm);
    return m;
}

/// Steps per epoch: enough for every rank's edges under the budget, but not
/// more than a rank has graphs (a step never splits a graph); the same on
/// every rank, since every step is a collective.
int64_t agree_steps_per_epoch(const TrainerConfig& cfg, comm::Communicator& comm,
                              const data::ShardedDataset& train_set) {
    const int64_t local_edges = train_set.local_edges();
    return comm.allreduce_value<int64_t>(
        std::max<int64_t>(1,
                          std::min<int64_t>((local_edges + cfg.batch_edges - 1) / cfg.batch_edges,
                                            static_cast<int64_t>(train_set.graph_ids.size()))),
        comm::ReduceOp::kMax);
}

/// Validation over every rank's shard, reduced; fills the summary's figures
/// and returns the loss that selects best.ckpt.
double validate(const TrainerConfig& cfg, comm::Communicator& comm, models::GnnModel& model,
                const data::CompressedGraphStore& valid_store, int64_t epoch, MetricsLog* log,
                TrainSummary& summary, std::string& text) {
    EdgeMetrics metrics;
    // Batches of about batch_edges, decompressed one at a time.
    for (int64_t next = 0; next < valid_store.size();) {
        std::vector<data::EventGraph> batch;
        int64_t edges = 0;
        while (next < valid_store.size() &&
               (batch.empty() || edges + valid_store.n_edges(next) <= cfg.batch_edges)) {
            edges += valid_store.n_edges(next);
            batch.push_back(valid_store.get(next++));
        }
        const auto logits = predict_logits(model, batch, cfg.batch_edges);
        accumulate_edge_metrics(batch, logits, cfg.pos_weight, metrics);
    }
    metrics.allreduce(comm);
    summary.valid_loss = metrics.mean_loss();
    summary.edge_efficiency = metrics.efficiency(cfg.cut);
    summary.edge_purity = metrics.purity(cfg.cut);
    summary.auc = metrics.auc();
    if (log) {
        log->write({{"epoch", epoch + 1},
                    {"valid_loss", summary.valid_loss},
                    {"edge_efficiency", summary.edge_efficiency},
                    {"edge_purity", summary.edge_purity},
                    {"auc", summary.auc}});
    }
    text = fmt::format(" | valid loss {:.4f} eff {:.4f} pur {:.4f} auc {:.4f}", summary.valid_loss,
                       summary.edge_efficiency, summary.edge_purity, summary.auc);
    return summary.valid_loss;
}

/// Checkpoint of a stop inside an epoch (preemption): last.ckpt with the
/// epoch's progress, then the line that tells how to continue.
void save_stop_checkpoint(comm::Communicator& comm, const RunSetup& setup, ModelState& m,
                          int signal, int64_t epoch, int64_t epoch_steps) {
    comm.collectively([&] {
        if (comm.rank() == 0)
            save_checkpoint(setup.last_path, *m.model, m.optimizer.get(), m.state);
    });
    if (comm.rank() == 0) {
        std::printf(
            "train: preempted by %s at epoch %lld, step %lld of %lld; wrote %s; "
            "run again with training.resume: auto to continue\n",
            stop_signal_name(signal), (long long)(epoch + 1),
            (long long)m.state.in_epoch.steps_done, (long long)epoch_steps,
            setup.last_path.string().c_str());
        std::fflush(stdout);
    }
}

/// Checkpoints at the end of an epoch: last.ckpt, and best.ckpt when
/// `selection_loss` (validation's, else training's) is the lowest so far.
void save_epoch_checkpoints(comm::Communicator& comm, const RunSetup& setup, ModelState& m,
                            double selection_loss) {
    auto& state = m.state;
    const bool is_best = !state.has_best || selection_loss < state.best_valid_loss;
    if (is_best) {
        state.has_best = true;
        state.best_valid_loss = selection_loss;
    }
    comm.collectively([&] {
        if (comm.rank() != 0) return;
        save_checkpoint(setup.last_path, *m.model, m.optimizer.get(), state);
        if (is_best) save_checkpoint(setup.best_path, *m.model, nullptr, state);
    });
}

}  // namespace

TrainSummary train(const TrainerConfig& cfg, comm::Communicator& comm) {
    const bool root = comm.rank() == 0;
    Stopwatch total_clock;
    const RunSetup setup = set_up(cfg, comm);
    TrainingData data = load_data(cfg, comm);
    const data::ShardedDataset& train_set = data.train;
    ModelState m = build_model_and_resume(cfg, comm, setup, train_set);
    auto& model = m.model;
    auto& optimizer = m.optimizer;
    CheckpointState& state = m.state;
    const bool resumed = m.resumed;

    std::unique_ptr<comm::Communicator> nccl;
    if (setup.use_nccl && comm.size() > 1) {
        nccl = comm::make_nccl_communicator(comm, cfg.local_rank);
        nccl->set_deadlines(cfg.deadlines);
    }
    TrainStep::Config step_cfg;
    step_cfg.pos_weight = cfg.pos_weight;
    step_cfg.edge_weights = cfg.edge_weights;
    step_cfg.grad_clip = cfg.optimizer.grad_clip;
    step_cfg.reducer = cfg.reducer;
    step_cfg.precision = setup.precision;
    TrainStep step(*model, *optimizer, comm, step_cfg, nccl.get());
    if (resumed) step.scaler().set_scale(state.loss_scale);

    const int64_t steps_per_epoch = agree_steps_per_epoch(cfg, comm, train_set);
    LrSchedule schedule(cfg.optimizer, comm.size(), steps_per_epoch, cfg.epochs);

    std::unique_ptr<MetricsLog> log;
    if (root) log = std::make_unique<MetricsLog>(cfg.output_dir / "metrics.jsonl", resumed);
    if (root) {
        std::printf(
            "train: %lld graphs (%lld edges) over %d rank(s), shard imbalance %.3f; "
            "%lld steps/epoch; model %s with %lld parameters%s\n",
            (long long)train_set.global_graphs, (long long)train_set.global_edges, comm.size(),
            train_set.shard_imbalance, (long long)steps_per_epoch, cfg.model.name.c_str(),
            (long long)models::count_parameters(*model),
            !resumed ? ""
            : state.in_epoch.steps_done > 0
                ? fmt::format("; resumed in epoch {} after step {}", state.epoch + 1,
                              state.in_epoch.steps_done)
                      .c_str()
                : fmt::format("; resumed after epoch {}", state.epoch).c_str());
        std::fflush(stdout);
    }

    const double store_ratio = data.ratio();
    data::Prefetcher prefetcher(*data.train_store);
    const EpochPlanInputs plan_inputs{&train_set.graph_edges, &train_set.graph_ids, steps_per_epoch,
                                      cfg.batch_edges, cfg.seed};
    const auto trace = open_step_trace(comm.rank());

    TrainSummary summary;
    double rate_graphs_sum = 0, rate_edges_sum = 0;
    int rate_epochs = 0;
    double rate_seconds_sum = 0, rate_imbalance_sum = 0;
    StageTimes steady_times;
    int stop_signal = 0;
    for (int64_t epoch = state.epoch; epoch < cfg.epochs; ++epoch) {
        model->train();
        // A run resumed from a mid-epoch (preemption) checkpoint skips the
        // steps already taken: the plan depends only on (seed, epoch, rank).
        // A different world size re-plans the rest of the epoch (Note [Elastic resume]).
        const EpochProgress start = epoch == state.epoch ? state.in_epoch : EpochProgress{};
        EpochPlan plan = plan_epoch(plan_inputs, epoch, start, comm);
        const int64_t epoch_steps = plan.n_steps;
        if (plan.replanned && root) {
            std::printf(
                "train: epoch %lld resumed on %d rank(s) from a stop on %lld: %zu graphs done, "
                "the rest re-planned into %lld steps\n",
                (long long)(epoch + 1), comm.size(), (long long)start.world_size,
                start.done_graphs.size(), (long long)(epoch_steps - start.steps_done));
            std::fflush(stdout);
        }
        prefetcher.schedule(plan.steps);
        double imbalance_sum = start.imbalance_sum;
        StageTimes times;
        Stopwatch epoch_clock;
        double epoch_loss_sum = start.loss_sum, window_loss_sum = start.window_loss_sum;
        int64_t epoch_edges = start.edges, epoch_graphs = start.graphs,
                window_edges = start.window_edges, window_graphs = start.window_graphs;
        Progress progress(fmt::format("epoch {}/{}", epoch + 1, cfg.epochs), epoch_steps,
                          Progress::config_for(stderr, root, "steps"));
        int64_t k = start.steps_done;
        for (; k < epoch_steps; ++k) {
            // A stop request counts when any rank got it; all ranks then stop
            // before the same step (one tiny allreduce per step).
            stop_signal = comm.allreduce_value<int>(stop_signal_received(), comm::ReduceOp::kMax);
            if (stop_signal != 0) break;
            std::vector<data::EventGraph> step_graphs;
            {
                ScopedStage t(times, "data_wait");
                step_graphs = prefetcher.next();
            }
            std::vector<const data::EventGraph*> graphs;
            for (const auto& g : step_graphs) graphs.push_back(&g);
            const auto r = step.run(graphs, schedule.at(state.step), times);
            if (trace) trace_step(trace.get(), plan, k, epoch, train_set.graph_ids);
            mark_step_done(plan, k);
            imbalance_sum += r.imbalance;
            state.step += 1;
            state.loss_scale = step.scaler().scale();
            if (comm.size() > 1 && cfg.check_every_steps > 0 &&
                state.step % cfg.check_every_steps == 0)
                check_parameters_agree(*model, comm, state.step);
            epoch_loss_sum += r.loss * r.edges;
            window_loss_sum += r.loss * r.edges;
            epoch_edges += r.edges;
            window_edges += r.edges;
            epoch_graphs += r.graphs;
            window_graphs += r.graphs;
            if (root && ((k + 1) % cfg.log_every_steps == 0 || k + 1 == epoch_steps)) {
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
        if (stop_signal != 0) {
            progress.finish("stopped");
            state.in_epoch = {
                k,
                epoch_loss_sum,
                epoch_edges,
                epoch_graphs,
                window_loss_sum,
                window_edges,
                window_graphs,
                imbalance_sum,
                comm.size(),
                plan.replanned,
                graphs_done(plan, train_set.graph_ids, train_set.global_graphs, comm)};
            save_stop_checkpoint(comm, setup, m, stop_signal, epoch, epoch_steps);
            break;
        }
        const double epoch_seconds = epoch_clock.seconds();
        progress.finish();
        summary.last_train_loss = epoch_loss_sum / std::max<int64_t>(1, epoch_edges);
        const double graphs_per_s = epoch_graphs / epoch_seconds;
        const double edges_per_s = epoch_edges / epoch_seconds;
        // Throughput figures leave out the first epoch (warm-up: allocator,
        // thread pools, caches), unless it is the only one.
        if (epoch > state.epoch || cfg.epochs - state.epoch == 1) {
            rate_graphs_sum += graphs_per_s;
            rate_edges_sum += edges_per_s;
            rate_seconds_sum += epoch_seconds;
            rate_imbalance_sum += imbalance_sum / epoch_steps;
            for (const auto& [name, sec] : times.all()) steady_times.add(name, sec);
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
                        {"step_imbalance", imbalance_sum / epoch_steps},
                        {"store_ratio", store_ratio},
                        {"stage_times", stage_json}});
        }

        double selection_loss = summary.last_train_loss;
        std::string valid_text;
        if (!cfg.valid_file.empty())
            selection_loss = validate(cfg, comm, *model, *data.valid_store, epoch, log.get(),
                                      summary, valid_text);
        state.epoch = epoch + 1;
        state.in_epoch = EpochProgress{};
        save_epoch_checkpoints(comm, setup, m, selection_loss);
        if (root) {
            std::string stages;
            for (const auto& [name, s] : times.all()) stages += fmt::format(" {} {:.1f}s", name, s);
            std::printf(
                "epoch %lld/%lld: loss %.4f | %.1f graphs/s, %.0f edges/s | %s%s |%s | "
                "imbalance %.3f\n",
                (long long)(epoch + 1), (long long)cfg.epochs, summary.last_train_loss,
                graphs_per_s, edges_per_s, format_duration(epoch_seconds).c_str(),
                valid_text.c_str(), stages.c_str(), imbalance_sum / epoch_steps);
            std::fflush(stdout);
        }
        summary.epochs_done = epoch + 1;
    }
    if (root && models::cpu_caching_allocator_installed()) {
        // Note [CPU caching allocator]: how much of the heap work the cache took on.
        const auto cache = models::cpu_caching_allocator_stats();
        std::printf(
            "train: caching allocator: %lld of %lld large blocks reused, peak %.1f MB mapped\n",
            (long long)cache.hits, (long long)(cache.hits + cache.misses),
            static_cast<double>(cache.peak_mapped_bytes) / 1e6);
        std::fflush(stdout);
    }
    summary.stop_signal = stop_signal;
    summary.steps_done = state.step;
    summary.skipped_steps = step.scaler().skipped_steps();
    summary.shard_imbalance = train_set.shard_imbalance;
    summary.train_graphs = train_set.global_graphs;
    summary.train_edges = train_set.global_edges;
    summary.store_raw_bytes = data.raw_bytes;
    summary.store_compressed_bytes = data.compressed_bytes;
    summary.n_parameters = models::count_parameters(*model);
    summary.steps_per_epoch = steps_per_epoch;
    summary.train_seconds = total_clock.seconds();
    if (rate_epochs > 0) {
        summary.graphs_per_s = rate_graphs_sum / rate_epochs;
        summary.edges_per_s = rate_edges_sum / rate_epochs;
        summary.mean_epoch_time_s = rate_seconds_sum / rate_epochs;
        summary.mean_step_imbalance = rate_imbalance_sum / rate_epochs;
        for (const auto& [name, sec] : steady_times.all())
            summary.mean_stage_s[name] = sec / rate_epochs;
    }
    return summary;
}

}  // namespace hepgnn::trainer
