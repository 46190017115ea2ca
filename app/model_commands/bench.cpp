// hepgnn bench: a fixed training workload and a JSON report in the spirit of
// the HEP benchmark suite (DESIGN §3.5): {"wl-scores": {...}, "wl-stats": {...}}.
#include <ATen/Parallel.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <memory>

#include "app/model_commands/model_commands.hpp"
#include "app/model_commands/training_config.hpp"
#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/peak_memory.hpp"
#include "core/stage_timer.hpp"
#include "trainer/trainer.hpp"

namespace hepgnn::app {
namespace {

struct BenchOptions {
    std::string config;
    std::vector<std::string> overrides;
    std::string report;
};

/// Allreduce time (median of 10 calls) for messages from 8 B up to the gradient size: the
/// alpha-beta input of scripts/scaling_model.py. Empty on one rank.
nlohmann::json allreduce_sweep(comm::Communicator& comm, int64_t gradient_floats) {
    nlohmann::json sweep = {{"bytes", nlohmann::json::array()},
                            {"seconds", nlohmann::json::array()}};
    if (comm.size() == 1) return sweep;
    for (int64_t floats :
         {int64_t(2), int64_t(256), int64_t(16384), int64_t(262144), gradient_floats}) {
        std::vector<float> buffer(static_cast<size_t>(floats), 1.0f);
        std::vector<double> times;
        comm.barrier();
        for (int k = 0; k < 10; ++k) {
            Stopwatch clock;
            comm.allreduce(buffer.data(), buffer.size());
            times.push_back(clock.seconds());
        }
        std::sort(times.begin(), times.end());
        // The slowest rank's median: a ring finishes when its last member does.
        const double median =
            comm.allreduce_value<double>(times[times.size() / 2], comm::ReduceOp::kMax);
        sweep["bytes"].push_back(floats * 4);
        sweep["seconds"].push_back(median);
    }
    return sweep;
}

int run_bench(const BenchOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    const Config config = Config::load(training_schema(), opt.config, opt.overrides);
    auto cfg = trainer_config(config);
    cfg.local_rank = ctx.launch.local_rank;
    cfg.resume = "never";  // a benchmark always starts fresh
    HEPGNN_CHECK(cfg.epochs >= 2,
                 "bench needs training.epochs >= 2: the first epoch is warm-up and excluded");
    const auto s = trainer::train(cfg, comm);

    const auto rss = comm.allgather_value<double>(peak_rss_mb());
    const auto allreduce = allreduce_sweep(comm, s.n_parameters);
    if (!ctx.is_root()) return 0;
    nlohmann::json stages;
    double step_time = 0;
    for (const auto& [name, sec] : s.mean_stage_s) {
        stages[name + "_s"] = sec;
        step_time += sec;
    }
    const double wait = s.mean_stage_s.count("data_wait") ? s.mean_stage_s.at("data_wait") : 0.0;
    const nlohmann::json report = {
        {"wl-scores",
         {// graphs (edges) of all ranks per second of an epoch, mean over epochs 2..N
          {"graphs_per_s", s.graphs_per_s},
          {"edges_per_s", s.edges_per_s},
          {"mean_epoch_time_s", s.mean_epoch_time_s}}},
        {"wl-stats",
         {{"world_size", comm.size()},
          {"threads_per_rank", at::get_num_threads()},
          {"device", cfg.device},
          {"backend", comm.size() > 1 ? (cfg.backend == "auto" ? "mpi" : cfg.backend) : "none"},
          {"model", cfg.model.name},
          {"n_parameters", s.n_parameters},
          {"epochs", s.epochs_done},
          {"steps_per_epoch", s.steps_per_epoch},
          {"batch_edges", cfg.batch_edges},
          {"dataset",
           {{"file", cfg.train_file.string()},
            {"graphs", s.train_graphs},
            {"edges", s.train_edges}}},
          // per epoch, rank 0, mean over epochs 2..N
          {"stage_times_s", stages},
          {"data_wait_fraction", step_time > 0 ? wait / step_time : 0.0},
          {"step_imbalance", s.mean_step_imbalance},
          {"shard_imbalance", s.shard_imbalance},
          {"compression",
           {{"codec", cfg.store.codec},
            {"raw_bytes", s.store_raw_bytes},
            {"compressed_bytes", s.store_compressed_bytes},
            {"ratio",
             s.store_compressed_bytes > 0 ? s.store_raw_bytes / s.store_compressed_bytes : 1.0}}},
          {"peak_rss_mb_per_rank", rss},
          {"allreduce", allreduce},
          {"final_train_loss", s.last_train_loss}}}};
    write_file_atomically(opt.report, report.dump(2) + "\n", "benchmark report");
    say(ctx,
        fmt::format("bench: {:.1f} graphs/s, {:.0f} edges/s, {:.2f} s/epoch on {} rank(s) "
                    "-> {}",
                    s.graphs_per_s, s.edges_per_s, s.mean_epoch_time_s, comm.size(), opt.report));
    return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<BenchOptions>();
    auto* cmd = app.add_subcommand(
        "bench",
        "Benchmark: train a fixed workload (a training config) and write a JSON report with "
        "throughput, per-stage times, load imbalance, compression and memory (first epoch "
        "excluded from means). Run under mpirun/srun for scaling studies.");
    cmd->add_option("--config", opt->config, "Training config (YAML)")->required();
    add_set_option(*cmd, opt->overrides);
    cmd->add_option("--report", opt->report, "Output JSON report")->required();
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_bench(*opt, ctx); }; });
}

}  // namespace hepgnn::app
