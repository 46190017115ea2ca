// Which track building method works best (Note [Track building methods] in
// pipeline/track_building.cpp): prepare's graphs of events with truth, scored
// by their own labels (perfect) and by seeded noisy versions of them
// (pipeline::LabelEdgeClassifier), through the pipeline's track building,
// scored with the TrackML metric over ALL hits of each event
// (pipeline/trackml_score.hpp, as `hepgnn score` does).
//
//   hepgnn_track_building_study --graphs TEST.h5 --events TEST_EVENTS [--json OUT.json]
//
// scripts/track_building_study.sh makes the events and graphs and runs it.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>

#include "core/error.hpp"
#include "core/stage_timer.hpp"
#include "data/graph_file.hpp"
#include "data/trackml_csv.hpp"
#include "pipeline/label_edge_classifier.hpp"
#include "pipeline/pipeline.hpp"
#include "pipeline/track_building.hpp"
#include "pipeline/track_matching.hpp"
#include "pipeline/trackml_score.hpp"

using namespace hepgnn;

namespace {

struct Noise {
    std::string name;
    pipeline::LabelEdgeClassifier::Config config;
};

struct Event {
    int64_t event_id = 0;
    std::vector<data::EventGraph> graphs;
    std::vector<int64_t> hit_ids;  // every hit of the event
    pipeline::EventTruth truth;
};

struct Result {
    double score_sum = 0;
    pipeline::TrackMetrics total, total_low;
    double seconds = 0;  // track building only
    int64_t events = 0;
};

int run(const std::string& graphs_path, const std::string& events_dir, const std::string& json,
        uint64_t seed, int min_hits, double cut) {
    const auto file = data::GraphFile::open(graphs_path);
    std::vector<int64_t> ids(static_cast<size_t>(file.num_graphs()));
    for (size_t g = 0; g < ids.size(); ++g) ids[g] = static_cast<int64_t>(g);
    std::map<int64_t, Event> events;
    for (auto& g : file.read_graphs(ids, {})) {
        auto& ev = events[g.event_id];
        ev.event_id = g.event_id;
        ev.graphs.push_back(std::move(g));
    }
    for (auto& [id, ev] : events) {
        const auto event = data::read_trackml_event(events_dir, id);
        for (const auto& h : event.hits) ev.hit_ids.push_back(h.hit_id);
        ev.truth = pipeline::event_truth(event, fmt::format("{} event {}", events_dir, id));
    }
    std::printf("track building study: %zu events of %s, truth of %s\n", events.size(),
                graphs_path.c_str(), events_dir.c_str());

    // Scores: sigmoid(+-separation + sigma N(0,1)) after flipping a share of
    // the labels. Per-edge error rate at cut 0.5: P(N > separation / sigma).
    std::vector<Noise> noises = {{"perfect (y)", {}}};
    const auto noisy = [&](std::string name, double separation, double sigma, double flip) {
        pipeline::LabelEdgeClassifier::Config c;
        c.separation = separation;
        c.sigma = sigma;
        c.flip = flip;
        c.seed = seed;
        noises.push_back({std::move(name), c});
    };
    noisy("logit 5 +- 2 (0.6% wrong)", 5, 2, 0);
    noisy("logit 3 +- 2 (6.7% wrong)", 3, 2, 0);
    noisy("2% flipped, logit 4 +- 1", 4, 1, 0.02);

    pipeline::ScoreConfig score_config;
    score_config.min_hits = min_hits;
    score_config.zero_is_unassigned = true;
    nlohmann::json out = nlohmann::json::array();
    std::printf("%-28s %-20s %8s %8s %8s %8s %8s %9s\n", "scores", "method", "trackml", "eff>1",
                "eff>0.5", "fake", "dup", "ms/event");
    for (const auto& noise : noises) {
        for (const auto& method : pipeline::track_building_methods()) {
            pipeline::TrackBuildingConfig tc;
            tc.method = method;
            tc.cut = cut;
            tc.seed_cut = 0.0;  // the methods alone, as Note [Track building methods] has them
            tc.min_hits = min_hits;
            pipeline::Pipeline pipe(nullptr,
                                    std::make_unique<pipeline::LabelEdgeClassifier>(noise.config),
                                    std::make_unique<pipeline::TrackBuilder>(tc));
            Result r;
            r.total = pipeline::TrackMetrics(score_config.matching(score_config.pt_min));
            r.total_low = pipeline::TrackMetrics(score_config.matching(score_config.pt_min_low));
            for (const auto& [id, ev] : events) {
                StageTimes times;
                const auto rec = pipe.run_on_graphs(ev.graphs, &times);
                r.seconds += times.get("track_building");
                const auto rows = pipeline::make_submission(ev.hit_ids, rec.labels_of(ev.hit_ids));
                std::vector<int64_t> track_id(rows.size());
                for (size_t i = 0; i < rows.size(); ++i) track_id[i] = rows[i].track_id;
                const auto s = pipeline::score_event(score_config, id, ev.truth, track_id);
                r.score_sum += s.trackml.score();
                r.total.merge(s.tracks);
                r.total_low.merge(s.tracks_low);
                r.events += 1;
            }
            const double score = r.score_sum / double(r.events);
            const double ms = 1000 * r.seconds / double(r.events);
            std::printf("%-28s %-20s %8.4f %8.4f %8.4f %8.4f %8.4f %9.1f\n", noise.name.c_str(),
                        method.c_str(), score, r.total.track_efficiency(),
                        r.total_low.track_efficiency(), r.total.fake_rate(),
                        r.total.duplicate_rate(), ms);
            out.push_back({{"scores", noise.name},
                           {"classifier", pipe.edge_classification().describe()},
                           {"method", method},
                           {"cut", cut},
                           {"events", r.events},
                           {"trackml_score", score},
                           {"track_efficiency", r.total.track_efficiency()},
                           {"track_efficiency_pt_0.5", r.total_low.track_efficiency()},
                           {"fake_rate", r.total.fake_rate()},
                           {"duplicate_rate", r.total.duplicate_rate()},
                           {"track_building_ms_per_event", ms}});
        }
    }
    if (!json.empty()) {
        std::ofstream f(json);
        f << out.dump(2) << "\n";
        HEPGNN_CHECK(f.good(), "cannot write '{}'", json);
        std::printf("track building study: JSON in %s\n", json.c_str());
    }
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app(
        "Track building methods on graphs with truth: perfect and noisy edge scores from the "
        "labels, tracks scored with the TrackML metric over all hits");
    std::string graphs, events, json;
    uint64_t seed = 1;
    int min_hits = 3;
    double cut = 0.5;
    app.add_option("--graphs", graphs, "Graph file from prepare (with labels)")->required();
    app.add_option("--events", events, "The graphs' TrackML events with truth")->required();
    app.add_option("--json", json, "Also write the table as JSON");
    app.add_option("--seed", seed, "Seed of the score noise")->capture_default_str();
    app.add_option("--min-hits", min_hits, "Smallest track kept and counted")
        ->capture_default_str();
    app.add_option("--cut", cut, "Edge score cut")->capture_default_str();
    CLI11_PARSE(app, argc, argv);
    try {
        return run(graphs, events, json, seed, min_hits, cut);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hepgnn_track_building_study: %s\n", e.what());
        return 1;
    }
}
