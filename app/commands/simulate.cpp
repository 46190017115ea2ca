// hepgnn simulate: TrackML-format CSV events from the toy TrackML detector.
// Under mpirun, rank r simulates every size-th event; each event depends only
// on (seed, event id), so the output is the same for any number of ranks.
#include <CLI/CLI.hpp>

#include <chrono>
#include <memory>

#include "app/command.hpp"
#include "core/error.hpp"
#include "core/progress.hpp"
#include "data/simulation.hpp"
#include "data/trackml_csv.hpp"

namespace hepgnn::app {
namespace {

struct SimulateOptions {
    std::string out;
    int64_t events = 1;
    int64_t first_event = 1000;
    uint64_t seed = 1;
    int64_t particles = 1000;
    std::string particles_csv;
    bool no_scattering = false;
    bool no_smearing = false;
    double inefficiency = 0.03;
    double noise_fraction = 0.10;
    double secondary_fraction = 0.05;
    double beam_sigma_z = data::EventSimulator::Config{}.beam_sigma_z;
    bool no_double_hits = false;
};

int run_simulate(const SimulateOptions& opt, Context& ctx) {
    auto& comm = *ctx.comm;
    const auto start = std::chrono::steady_clock::now();
    data::EventSimulator::Config cfg;
    cfg.n_particles = opt.particles;
    if (!opt.particles_csv.empty())
        cfg.particle_table = data::read_trackml_particles(opt.particles_csv);
    cfg.multiple_scattering = !opt.no_scattering;
    cfg.hit_smearing = !opt.no_smearing;
    cfg.inefficiency = opt.inefficiency;
    cfg.noise_fraction = opt.noise_fraction;
    cfg.secondary_fraction = opt.secondary_fraction;
    cfg.beam_sigma_z = opt.beam_sigma_z;
    cfg.double_hits = !opt.no_double_hits;
    const data::EventSimulator simulator(cfg);

    int64_t hits = 0, done = 0;
    comm.collectively([&] {
        const int64_t mine = (opt.events - comm.rank() + comm.size() - 1) / comm.size();
        Progress progress("simulate", mine, Progress::config_for(stderr, ctx.is_root(), "events"));
        for (int64_t i = comm.rank(); i < opt.events; i += comm.size()) {
            const auto event = simulator.simulate(opt.first_event + i, opt.seed);
            data::write_trackml_event(opt.out, event);
            hits += static_cast<int64_t>(event.hits.size());
            progress.update(++done);
        }
        progress.finish();
    });
    hits = comm.allreduce_value(hits);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    say(ctx, fmt::format("simulate: {} events, {} hits ({:.0f} per event) in {:.1f} s -> {}",
                         opt.events, hits, double(hits) / double(opt.events), seconds, opt.out));
    return 0;
}

}  // namespace

void add_simulate_command(CLI::App& app, Runner& selected) {
    auto opt = std::make_shared<SimulateOptions>();
    auto* cmd = app.add_subcommand(
        "simulate",
        "Simulate TrackML-format events (hits, truth, particles CSV) in a toy TrackML detector:\n"
        "helices in a 2 T field with multiple scattering, overlapping modules (double hits),\n"
        "smearing, inefficiency and noise; vertices from TrackML's beam spot; truth weights are\n"
        "TrackML's (pT times order along the track; noise and tracks under 4 hits weigh 0)");
    cmd->add_option("--out", opt->out, "Output folder for eventNNNNNNNNN-*.csv")->required();
    cmd->add_option("--events", opt->events, "Number of events")
        ->required()
        ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
    cmd->add_option("--first-event", opt->first_event, "Event id of the first event")
        ->check(CLI::NonNegativeNumber)
        ->capture_default_str();
    cmd->add_option("--seed", opt->seed, "Random seed (events depend only on seed and id)")
        ->capture_default_str();
    cmd->add_option("--particles", opt->particles,
                    "Particles per event (with --particles-csv: drawn from the table; 0 = the "
                    "whole table)")
        ->check(CLI::Range(int64_t{0}, int64_t{10000000}))
        ->capture_default_str();
    auto* table = cmd->add_option("--particles-csv", opt->particles_csv,
                                  "Take particle kinematics from a TrackML particles table")
                      ->check(CLI::ExistingFile);
    cmd->add_option("--beam-sigma-z", opt->beam_sigma_z,
                    "Beam spot length in z (mm) of generated vertices; the default is TrackML's "
                    "(event 1000: sigma 5.9 mm around z = -0.3 mm), ~50 is HL-LHC-like. Not with "
                    "--particles-csv, whose vertices are kept")
        ->check(CLI::Range(0.0, 1000.0))
        ->capture_default_str()
        ->excludes(table);
    cmd->add_flag("--no-double-hits", opt->no_double_hits,
                  "Switch off double hits: a crossing in the overlap of two neighbouring modules "
                  "then leaves one hit, not one on each");
    cmd->add_flag("--no-scattering", opt->no_scattering, "Switch off multiple scattering");
    cmd->add_flag("--no-smearing", opt->no_smearing, "Switch off hit smearing");
    cmd->add_option("--inefficiency", opt->inefficiency, "Chance a module crossing leaves no hit")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    cmd->add_option("--noise-fraction", opt->noise_fraction, "Noise hits as a share of all hits")
        ->check(CLI::Range(0.0, 0.95))
        ->capture_default_str();
    cmd->add_option("--secondary-fraction", opt->secondary_fraction,
                    "Share of particles from displaced vertices")
        ->check(CLI::Range(0.0, 1.0))
        ->capture_default_str();
    cmd->callback(
        [opt, &selected] { selected = [opt](Context& ctx) { return run_simulate(*opt, ctx); }; });
}

}  // namespace hepgnn::app
