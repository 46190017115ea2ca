// hepgnn modulemap: learns the module map (data/module_map.hpp) from events
// with truth: the layer pairs that consecutive hits of one particle connect,
// across barrel and endcaps, and each pair's ranges of the quantities that
// graph building (detector: full) cuts on.
#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>

#include "app/command.hpp"
#include "app/config_schemas.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/module_map_builder.hpp"
#include "data/trackml_csv.hpp"

namespace hepgnn::app {
namespace {

struct ModuleMapOptions {
    std::string input;
    std::string out;
    std::string config;
    std::vector<std::string> overrides;
    int64_t max_events = 0;
};

int run_modulemap(const ModuleMapOptions& opt, Context& ctx) {
    HEPGNN_CHECK(ctx.comm->size() == 1,
                 "modulemap runs on one process ({} were started); run it without mpirun/srun",
                 ctx.comm->size());
    const auto start = std::chrono::steady_clock::now();
    const Config config = Config::load(modulemap_schema(), opt.config, opt.overrides);
    data::ModuleMapBuilder builder(module_map_builder_config(config));
    std::vector<int64_t> events = data::list_trackml_events(opt.input, opt.max_events);
    Progress progress("modulemap", static_cast<int64_t>(events.size()),
                      Progress::config_for(stderr, true, "events"));
    for (size_t i = 0; i < events.size(); ++i) {
        builder.add_event(data::read_trackml_event(opt.input, events[i]));
        progress.update(static_cast<int64_t>(i + 1));
    }
    progress.finish();
    const data::ModuleMap map = builder.finish();
    map.write(opt.out);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    say(ctx,
        fmt::format("modulemap: {} events, {} particles, {} true segments -> {} layers, {} "
                    "layer pairs (geometry '{}') in {:.1f} s: {}",
                    map.provenance.n_events, map.provenance.n_particles, map.provenance.n_segments,
                    map.layers.size(), map.pairs.size(), map.geometry, seconds, opt.out));
    return 0;
}

}  // namespace

void add_modulemap_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<ModuleMapOptions>();
    auto* cmd = app.add_subcommand(
        "modulemap",
        "Learn the module map from TrackML events with truth: which layers consecutive hits of\n"
        "one particle connect, and each pair's cut ranges (prepare/infer with detector: full).\n"
        "Config keys (top level of --config YAML, or --set key=value):\n" +
            modulemap_schema().describe());
    cmd->add_option("--input", opt->input,
                    "Folder of eventNNNNNNNNN-{hits,truth,particles}.csv (training events)")
        ->required();
    cmd->add_option("--out", opt->out, "Output map file (JSON)")->required();
    cmd->add_option("--config", opt->config, "Module map config (YAML)");
    cmd->add_option("--max-events", opt->max_events, "Use at most this many events (0: all)");
    add_set_option(*cmd, opt->overrides);
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_modulemap(*opt, ctx); }; });
}

}  // namespace hepgnn::app
