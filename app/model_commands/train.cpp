// hepgnn train.
#include <ATen/Parallel.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <memory>

#include "app/model_commands/model_commands.hpp"
#include "app/model_commands/training_config.hpp"
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
            "train: {} epochs, {} steps{} in {:.1f} s; final train loss {:.4f}{}",
            summary.epochs_done, summary.steps_done,
            summary.skipped_steps > 0
                ? fmt::format(" ({} skipped: float16 gradients overflowed)", summary.skipped_steps)
                : "",
            summary.train_seconds, summary.last_train_loss,
            summary.auc > 0 ? fmt::format("; valid efficiency {:.4f} purity {:.4f} "
                                          "auc {:.4f}",
                                          summary.edge_efficiency, summary.edge_purity, summary.auc)
                            : ""));
    return 0;
}

}  // namespace

void add_train_command(CLI::App& app, Runner& selected) {
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
}

}  // namespace hepgnn::app
