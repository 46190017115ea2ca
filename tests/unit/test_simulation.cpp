#include "data/simulation.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "core/error.hpp"
#include "data/detector_geometry.hpp"
#include "data/trackml_csv.hpp"

#ifndef HEPGNN_TRACKML_DATA_DIR
#define HEPGNN_TRACKML_DATA_DIR "/work/shared/data/trackml"
#endif

namespace hepgnn::data {
namespace {

namespace fs = std::filesystem;
constexpr double kPi = 3.14159265358979323846;

double pt_of(const Particle& p) {
    return std::hypot(p.px, p.py);
}
double eta_of(const Particle& p) {
    return std::asinh(p.pz / pt_of(p));
}
double radius_mm(double pt, double b_field) {
    return pt / (0.3 * b_field) * 1000;
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

bool hits_equal(const Hit& a, const Hit& b) {
    return a.hit_id == b.hit_id && same_bits(a.x, b.x) && same_bits(a.y, b.y) &&
           same_bits(a.z, b.z) && a.volume_id == b.volume_id && a.layer_id == b.layer_id &&
           a.module_id == b.module_id;
}
bool truth_equal(const TruthHit& a, const TruthHit& b) {
    return a.hit_id == b.hit_id && a.particle_id == b.particle_id && same_bits(a.tx, b.tx) &&
           same_bits(a.ty, b.ty) && same_bits(a.tz, b.tz) && same_bits(a.tpx, b.tpx) &&
           same_bits(a.tpy, b.tpy) && same_bits(a.tpz, b.tpz) && same_bits(a.weight, b.weight);
}
bool particles_equal(const Particle& a, const Particle& b) {
    return a.particle_id == b.particle_id && same_bits(a.vx, b.vx) && same_bits(a.vy, b.vy) &&
           same_bits(a.vz, b.vz) && same_bits(a.px, b.px) && same_bits(a.py, b.py) &&
           same_bits(a.pz, b.pz) && a.q == b.q && a.nhits == b.nhits;
}
template <typename T, typename Eq>
bool all_equal(const std::vector<T>& a, const std::vector<T>& b, Eq eq) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), eq);
}
bool events_equal(const TrackmlEvent& a, const TrackmlEvent& b) {
    return a.event_id == b.event_id && all_equal(a.hits, b.hits, hits_equal) &&
           all_equal(a.truth, b.truth, truth_equal) &&
           all_equal(a.particles, b.particles, particles_equal);
}

/// Indices of each particle's hits, by particle id (noise excluded).
std::unordered_map<int64_t, std::vector<size_t>> hits_by_particle(const TrackmlEvent& event) {
    std::unordered_map<int64_t, std::vector<size_t>> out;
    for (size_t i = 0; i < event.truth.size(); ++i) {
        if (event.truth[i].particle_id != 0) out[event.truth[i].particle_id].push_back(i);
    }
    return out;
}

double quantile(std::vector<double> values, double q) {
    std::sort(values.begin(), values.end());
    return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
}

/// A prompt particle that must cross all ten barrel layers: central, stiff,
/// from near the beam line.
bool is_central_stiff_primary(const Particle& p) {
    return pt_of(p) > 1.0 && std::fabs(eta_of(p)) < 0.8 && std::hypot(p.vx, p.vy) < 1.0 &&
           std::fabs(p.vz) < 150;
}

const TrackmlEvent& default_event_10k() {
    static const TrackmlEvent event = [] {
        EventSimulator::Config cfg;
        cfg.n_particles = 10000;
        return EventSimulator(cfg).simulate(1, 2024);
    }();
    return event;
}

std::vector<Particle> real_particle_table() {
    const fs::path file = fs::path(HEPGNN_TRACKML_DATA_DIR) / "event000001000-particles.csv";
    if (!fs::exists(file)) return {};
    return read_trackml_particles(file);
}

template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected a hepgnn::Error";
    return "";
}

// ---------------------------------------------------------------- geometry

TEST(DetectorGeometry, TrackmlLikeLayout) {
    const DetectorGeometry geo = DetectorGeometry::trackml_like();
    ASSERT_EQ(geo.layers.size(), 10u + 14u + 12u + 12u);
    const double radii[] = {32, 72, 116, 172, 260, 360, 500, 660, 820, 1020};
    std::set<std::pair<int, int>> ids;
    int n_barrel = 0;
    for (const DetectorLayer& layer : geo.layers) {
        EXPECT_TRUE(ids.insert({layer.volume_id, layer.layer_id}).second)
            << "duplicate " << layer.volume_id << "/" << layer.layer_id;
        EXPECT_EQ(layer.layer_id % 2, 0);
        EXPECT_GT(layer.thickness_x0, 0.0);
        EXPECT_GT(layer.sigma_rphi, 0.0);
        EXPECT_GE(layer.sigma_long, layer.sigma_rphi);
        const int index = barrel_layer_index(layer.volume_id, layer.layer_id);
        if (layer.kind == LayerKind::kBarrel) {
            ASSERT_GE(index, 0);
            EXPECT_EQ(layer.position, radii[index]);
            EXPECT_EQ(layer.long_min, -layer.long_max);
            ++n_barrel;
        } else {
            EXPECT_EQ(index, -1);
            const bool negative_side =
                layer.volume_id == 7 || layer.volume_id == 12 || layer.volume_id == 16;
            EXPECT_EQ(negative_side, layer.position < 0)
                << "volume " << layer.volume_id << " is on the wrong side";
        }
        EXPECT_GT(layer.n_modules(), 1);
    }
    EXPECT_EQ(n_barrel, kNumBarrelLayers);
    // TrackML numbering: on the negative side the disk farthest out has id 2.
    ASSERT_NE(geo.find_layer(7, 2), nullptr);
    EXPECT_EQ(geo.find_layer(7, 2)->position, -1500);
    EXPECT_EQ(geo.find_layer(9, 2)->position, 600);
    EXPECT_EQ(geo.find_layer(18, 12)->position, 2950);
    EXPECT_EQ(geo.find_layer(17, 6), nullptr);
}

TEST(DetectorGeometry, BarrelLayerIndex) {
    EXPECT_EQ(barrel_layer_index(8, 2), 0);
    EXPECT_EQ(barrel_layer_index(8, 8), 3);
    EXPECT_EQ(barrel_layer_index(13, 2), 4);
    EXPECT_EQ(barrel_layer_index(13, 8), 7);
    EXPECT_EQ(barrel_layer_index(17, 2), 8);
    EXPECT_EQ(barrel_layer_index(17, 4), 9);
    EXPECT_EQ(barrel_layer_index(17, 6), -1);
    EXPECT_EQ(barrel_layer_index(8, 3), -1);
    EXPECT_EQ(barrel_layer_index(8, 10), -1);
    EXPECT_EQ(barrel_layer_index(7, 2), -1);
    EXPECT_EQ(barrel_layer_index(9, 14), -1);
}

TEST(DetectorGeometry, ModuleIdsTileTheLayer) {
    const DetectorGeometry geo = DetectorGeometry::trackml_like();
    for (const DetectorLayer& layer : geo.layers) {
        const double eps = 1e-9;
        // Corners of the layer map to the first and last module; all ids are hit once
        // on a grid through the module centres.
        EXPECT_EQ(layer.module_id(-kPi + eps, layer.long_min), 1);
        EXPECT_EQ(layer.module_id(kPi - eps, layer.long_max), layer.n_modules());
        EXPECT_EQ(layer.module_id(kPi + 0.5 * 2 * kPi / layer.n_modules_phi, layer.long_min), 1)
            << "phi must wrap around";
        EXPECT_EQ(layer.module_id(0, layer.long_max + 100), layer.module_id(0, layer.long_max));
        std::set<int> seen;
        for (int j = 0; j < layer.n_modules_long; ++j) {
            for (int i = 0; i < layer.n_modules_phi; ++i) {
                const double phi = -kPi + (i + 0.5) * 2 * kPi / layer.n_modules_phi;
                const double u = layer.long_min + (j + 0.5) * (layer.long_max - layer.long_min) /
                                                      layer.n_modules_long;
                seen.insert(layer.module_id(phi, u));
            }
        }
        EXPECT_EQ(static_cast<int>(seen.size()), layer.n_modules());
        EXPECT_EQ(*seen.begin(), 1);
        EXPECT_EQ(*seen.rbegin(), layer.n_modules());
    }
}

// ---------------------------------------------------------------- simulator

TEST(EventSimulator, SameSeedSameEventDifferentSeedDifferentEvent) {
    EventSimulator::Config cfg;
    cfg.n_particles = 500;
    const EventSimulator sim(cfg);
    const TrackmlEvent a = sim.simulate(3, 77);
    const TrackmlEvent b = EventSimulator(cfg).simulate(3, 77);  // a second instance, no state
    const TrackmlEvent again = sim.simulate(3, 77);
    EXPECT_TRUE(events_equal(a, b));
    EXPECT_TRUE(events_equal(a, again));
    EXPECT_FALSE(events_equal(a, sim.simulate(3, 78)));
    TrackmlEvent other_event = sim.simulate(4, 77);
    other_event.event_id = 3;  // so only the content is compared
    EXPECT_FALSE(events_equal(a, other_event));
}

TEST(EventSimulator, SwitchingAnEffectOffKeepsTheParticles) {
    EventSimulator::Config cfg;
    cfg.n_particles = 300;
    const TrackmlEvent with = EventSimulator(cfg).simulate(1, 5);
    cfg.hit_smearing = false;
    cfg.multiple_scattering = false;
    cfg.noise_fraction = 0;
    const TrackmlEvent without = EventSimulator(cfg).simulate(1, 5);
    ASSERT_EQ(with.particles.size(), without.particles.size());
    for (size_t i = 0; i < with.particles.size(); ++i) {
        Particle a = with.particles[i], b = without.particles[i];
        a.nhits = b.nhits = 0;
        ASSERT_TRUE(particles_equal(a, b)) << "particle " << i;
    }
}

TEST(EventSimulator, EventIsConsistentAndOrderedLikeTrackml) {
    const TrackmlEvent& event = default_event_10k();
    const DetectorGeometry geo = DetectorGeometry::trackml_like();
    ASSERT_EQ(event.hits.size(), event.truth.size());
    std::unordered_map<int64_t, const Particle*> particles;
    for (const Particle& p : event.particles) {
        EXPECT_TRUE(particles.emplace(p.particle_id, &p).second) << "duplicate particle id";
        EXPECT_NE(p.particle_id, 0);
        EXPECT_TRUE(p.q == 1 || p.q == -1);
    }
    std::unordered_map<int64_t, int> hit_count;
    double weight_sum = 0;
    int module_mismatches = 0;
    for (size_t i = 0; i < event.hits.size(); ++i) {
        const Hit& h = event.hits[i];
        const TruthHit& t = event.truth[i];
        ASSERT_EQ(h.hit_id, static_cast<int64_t>(i + 1));
        ASSERT_EQ(t.hit_id, h.hit_id);
        if (i > 0) {
            const Hit& prev = event.hits[i - 1];
            ASSERT_LE(std::make_tuple(prev.volume_id, prev.layer_id, prev.module_id),
                      std::make_tuple(h.volume_id, h.layer_id, h.module_id))
                << "hits not sorted at hit " << h.hit_id;
        }
        const DetectorLayer* layer = geo.find_layer(h.volume_id, h.layer_id);
        ASSERT_NE(layer, nullptr) << h.volume_id << "/" << h.layer_id;
        ASSERT_GE(h.module_id, 1);
        ASSERT_LE(h.module_id, layer->n_modules());
        const double phi = std::atan2(h.y, h.x);
        const double u = layer->kind == LayerKind::kBarrel ? h.z : std::hypot(h.x, h.y);
        module_mismatches += layer->module_id(phi, u) != h.module_id;
        EXPECT_GE(t.weight, 0.f);
        weight_sum += t.weight;
        if (t.particle_id == 0) {
            EXPECT_EQ(t.weight, 0.f);
            continue;
        }
        const auto it = particles.find(t.particle_id);
        ASSERT_NE(it, particles.end()) << "truth names unknown particle " << t.particle_id;
        ++hit_count[t.particle_id];
    }
    // Float rounding can move a hit sitting on a module edge across it.
    EXPECT_LE(module_mismatches, 3);
    EXPECT_NEAR(weight_sum, 1.0, 1e-3);

    // nhits counts the hits; weights grow with pT and vanish below 4 hits.
    std::map<int64_t, float> weight_of;
    for (const TruthHit& t : event.truth) {
        if (t.particle_id != 0) weight_of[t.particle_id] = t.weight;
    }
    for (const Particle& p : event.particles) {
        ASSERT_EQ(p.nhits, hit_count[p.particle_id]) << "particle " << p.particle_id;
        if (p.nhits == 0) continue;
        const float w = weight_of[p.particle_id];
        if (p.nhits < 4) {
            EXPECT_EQ(w, 0.f);
        } else {
            EXPECT_GT(w, 0.f);
        }
    }
    const auto weight_ratio = [&](double pt_lo, double pt_hi) {
        for (const Particle& p : event.particles) {
            if (p.nhits >= 4 && pt_of(p) < pt_lo) {
                for (const Particle& q : event.particles) {
                    if (q.nhits >= 4 && pt_of(q) > pt_hi) {
                        return weight_of[q.particle_id] / weight_of[p.particle_id];
                    }
                }
            }
        }
        return 0.f;
    };
    EXPECT_NEAR(weight_ratio(0.5, 3.0), 5.0, 1e-3);  // 1.0 / 0.2
}

TEST(EventSimulator, HitsLieOnTheirLayerWithinTheResolution) {
    const TrackmlEvent& event = default_event_10k();
    const DetectorGeometry geo = DetectorGeometry::trackml_like();
    // Smearing pulls per volume: sum of squared r*phi pulls, of long pulls, count.
    std::map<int, std::array<double, 3>> pulls;
    for (size_t i = 0; i < event.hits.size(); ++i) {
        const Hit& h = event.hits[i];
        const TruthHit& t = event.truth[i];
        const DetectorLayer& layer = *geo.find_layer(h.volume_id, h.layer_id);
        const double r = std::hypot(h.x, h.y);
        if (layer.kind == LayerKind::kBarrel) {
            ASSERT_NEAR(r, layer.position, 5e-4) << "hit " << h.hit_id;
            ASSERT_LE(std::fabs(h.z), layer.long_max + 6 * layer.sigma_long);
        } else {
            ASSERT_EQ(h.z, static_cast<float>(layer.position)) << "hit " << h.hit_id;
            ASSERT_GE(r, layer.long_min - 6 * layer.sigma_long);
            ASSERT_LE(r, layer.long_max + 6 * layer.sigma_long);
        }
        if (t.particle_id == 0) continue;
        const double true_r = std::hypot(t.tx, t.ty);
        double dphi = std::atan2(h.y, h.x) - std::atan2(t.ty, t.tx);
        dphi -= 2 * kPi * std::round(dphi / (2 * kPi));
        const double d_long = layer.kind == LayerKind::kBarrel ? h.z - t.tz : r - true_r;
        auto& sums = pulls[h.volume_id];
        sums[0] += std::pow(true_r * dphi / layer.sigma_rphi, 2);
        sums[1] += std::pow(d_long / layer.sigma_long, 2);
        sums[2] += 1;
    }
    ASSERT_EQ(pulls.size(), 9u) << "every volume should have hits";
    for (const auto& [volume, sums] : pulls) {
        ASSERT_GT(sums[2], 500) << "volume " << volume;
        EXPECT_NEAR(std::sqrt(sums[0] / sums[2]), 1.0, 0.08) << "r*phi pull RMS, volume " << volume;
        EXPECT_NEAR(std::sqrt(sums[1] / sums[2]), 1.0, 0.08) << "long pull RMS, volume " << volume;
    }
}

TEST(EventSimulator, TenThousandParticlesGiveTrackmlLikeHitCounts) {
    const TrackmlEvent& event = default_event_10k();
    EXPECT_EQ(event.particles.size(), 10000u);
    EXPECT_GE(event.hits.size(), 60000u);
    EXPECT_LE(event.hits.size(), 150000u);
    size_t noise = 0;
    for (const TruthHit& t : event.truth) noise += t.particle_id == 0;
    const double noise_fraction = static_cast<double>(noise) / event.hits.size();
    EXPECT_NEAR(noise_fraction, 0.10, 0.03);

    EventSimulator::Config cfg;
    cfg.n_particles = 200;
    cfg.noise_fraction = 0;
    for (const TruthHit& t : EventSimulator(cfg).simulate(1, 1).truth) {
        ASSERT_NE(t.particle_id, 0) << "noise hit although noise_fraction = 0";
    }
}

TEST(EventSimulator, KinematicsMatchTrackml) {
    const TrackmlEvent& event = default_event_10k();
    std::vector<double> pts;
    int above_1gev = 0, positive = 0, displaced = 0, n_prompt = 0;
    double sum_vz2 = 0, sum_vx2 = 0;
    for (const Particle& p : event.particles) {
        const double pt = pt_of(p);
        pts.push_back(pt);
        above_1gev += pt > 1.0;
        positive += p.q > 0;
        EXPECT_GE(pt, 0.1 * (1 - 1e-6));
        EXPECT_LE(pt, 100 * (1 + 1e-6));
        EXPECT_LE(std::fabs(eta_of(p)), 4.0 + 1e-4);
        // 0.1 mm is 7 sigma of the beam spot.
        if (std::hypot(p.vx, p.vy) > 0.1) {
            ++displaced;
        } else {
            ++n_prompt;
            sum_vz2 += p.vz * p.vz;
            sum_vx2 += p.vx * p.vx;
        }
    }
    const double n = static_cast<double>(pts.size());
    // TrackML event 1000: median 0.360, 10% 0.144, 90% 1.079, 99% 2.98 GeV; 11.3% above 1 GeV.
    EXPECT_NEAR(quantile(pts, 0.5), 0.36, 0.03);
    EXPECT_NEAR(quantile(pts, 0.1), 0.144, 0.015);
    EXPECT_NEAR(quantile(pts, 0.9), 1.08, 0.1);
    EXPECT_NEAR(quantile(pts, 0.99), 3.0, 0.5);
    EXPECT_NEAR(above_1gev / n, 0.113, 0.02);
    EXPECT_NEAR(positive / n, 0.55, 0.02);
    EXPECT_NEAR(displaced / n, 0.05, 0.015);
    EXPECT_NEAR(std::sqrt(sum_vz2 / n_prompt), 55, 3);
    EXPECT_NEAR(std::sqrt(sum_vx2 / n_prompt), 0.015, 0.001);
}

TEST(EventSimulator, CentralStiffTracksCrossEveryBarrelLayerOnce) {
    EventSimulator::Config cfg;
    cfg.n_particles = 5000;
    cfg.inefficiency = 0;
    const TrackmlEvent event = EventSimulator(cfg).simulate(2, 11);
    const auto by_particle = hits_by_particle(event);
    int n_tracks = 0;
    for (const Particle& p : event.particles) {
        if (!is_central_stiff_primary(p)) continue;
        ++n_tracks;
        std::vector<int> layers;
        for (size_t i : by_particle.at(p.particle_id)) {
            const int index = barrel_layer_index(event.hits[i].volume_id, event.hits[i].layer_id);
            if (index >= 0) layers.push_back(index);
        }
        std::sort(layers.begin(), layers.end());
        std::vector<int> all(kNumBarrelLayers);
        std::iota(all.begin(), all.end(), 0);
        EXPECT_EQ(layers, all) << "particle " << p.particle_id << " pT " << pt_of(p) << " eta "
                               << eta_of(p);
    }
    EXPECT_GT(n_tracks, 50);
}

TEST(EventSimulator, InefficiencyDropsTheConfiguredShareOfCrossings) {
    const TrackmlEvent& event = default_event_10k();
    const auto by_particle = hits_by_particle(event);
    int n_tracks = 0, n_barrel_hits = 0;
    for (const Particle& p : event.particles) {
        if (!is_central_stiff_primary(p)) continue;
        ++n_tracks;
        const auto it = by_particle.find(p.particle_id);
        if (it == by_particle.end()) continue;
        for (size_t i : it->second) {
            n_barrel_hits +=
                barrel_layer_index(event.hits[i].volume_id, event.hits[i].layer_id) >= 0;
        }
    }
    ASSERT_GT(n_tracks, 150);
    const double missing = 1.0 - static_cast<double>(n_barrel_hits) / (kNumBarrelLayers * n_tracks);
    EXPECT_NEAR(missing, 0.03, 0.012) << n_tracks << " tracks";
}

TEST(EventSimulator, PromptParticlesStopAfterHalfATurn) {
    EventSimulator::Config cfg;
    cfg.n_particles = 5000;
    for (const bool scattering : {false, true}) {
        cfg.multiple_scattering = scattering;
        const TrackmlEvent event = EventSimulator(cfg).simulate(5, 5);
        const auto by_particle = hits_by_particle(event);
        int n_loopers = 0, n_twice = 0;
        for (const Particle& p : event.particles) {
            const auto it = by_particle.find(p.particle_id);
            if (std::hypot(p.vx, p.vy) > 1.0 || it == by_particle.end()) continue;
            // A helix from the beam line is farthest from it after half a turn,
            // at the diameter 2R: within that half turn it crosses each surface
            // once. Loopers (2R below the outer layers) would come back otherwise.
            const double diameter = 2 * radius_mm(pt_of(p), cfg.b_field);
            n_loopers += diameter < 1000;
            std::set<std::pair<int, int>> layers;
            for (size_t i : it->second) {
                const Hit& h = event.hits[i];
                if (layers.insert({h.volume_id, h.layer_id}).second) continue;
                ++n_twice;
                // Scattering moves the turning point a little, so a barrel layer
                // grazed there can be crossed out and back in; nothing else can.
                EXPECT_TRUE(scattering && barrel_layer_index(h.volume_id, h.layer_id) >= 0 &&
                            std::hypot(h.x, h.y) > 0.8 * diameter)
                    << "particle " << p.particle_id << " (pT " << pt_of(p) << ", 2R " << diameter
                    << ") crosses " << h.volume_id << "/" << h.layer_id << " twice";
            }
        }
        EXPECT_GT(n_loopers, 1000);
        EXPECT_LT(n_twice, 50) << "scattering " << scattering;
    }
}

/// Algebraic circle fit x^2 + y^2 + D x + E y + F = 0; returns (xc, yc, R).
std::array<double, 3> fit_circle(const std::vector<std::pair<double, double>>& points) {
    double mx = 0, my = 0;
    for (const auto& [x, y] : points) {
        mx += x;
        my += y;
    }
    mx /= points.size();
    my /= points.size();
    // Normal equations for (D, E, F) in centred coordinates.
    double a[3][4] = {};
    for (const auto& [x0, y0] : points) {
        const double x = x0 - mx, y = y0 - my, z = -(x * x + y * y);
        const double row[3] = {x, y, 1};
        for (int i = 0; i < 3; ++i) {
            for (int j = 0; j < 3; ++j) a[i][j] += row[i] * row[j];
            a[i][3] += row[i] * z;
        }
    }
    for (int c = 0; c < 3; ++c) {  // Gauss-Jordan with partial pivoting
        int pivot = c;
        for (int r = c + 1; r < 3; ++r) {
            if (std::fabs(a[r][c]) > std::fabs(a[pivot][c])) pivot = r;
        }
        std::swap(a[c], a[pivot]);
        for (int r = 0; r < 3; ++r) {
            if (r == c) continue;
            const double f = a[r][c] / a[c][c];
            for (int k = c; k < 4; ++k) a[r][k] -= f * a[c][k];
        }
    }
    const double d = a[0][3] / a[0][0], e = a[1][3] / a[1][1], f = a[2][3] / a[2][2];
    return {mx - d / 2, my - e / 2, std::sqrt(d * d / 4 + e * e / 4 - f)};
}

TEST(EventSimulator, WithoutScatteringAndSmearingHitsLieOnTheIdealHelix) {
    EventSimulator::Config cfg;
    cfg.n_particles = 2000;
    cfg.multiple_scattering = false;
    cfg.hit_smearing = false;
    cfg.inefficiency = 0;
    cfg.noise_fraction = 0;
    const TrackmlEvent event = EventSimulator(cfg).simulate(6, 99);
    const auto by_particle = hits_by_particle(event);
    int n_checked = 0;
    for (const Particle& p : event.particles) {
        const auto it = by_particle.find(p.particle_id);
        const double pt = pt_of(p);
        if (it == by_particle.end() || it->second.size() < 4) continue;
        const double expected = radius_mm(pt, cfg.b_field);
        // Skip arcs too straight for float hit positions to pin their curvature:
        // the sagitta over the hits must be well above float precision.
        const Hit& first = event.hits[it->second.front()];
        double span = 0;
        for (size_t i : it->second) {
            span = std::max<double>(
                span, std::hypot(event.hits[i].x - first.x, event.hits[i].y - first.y));
        }
        if (span * span / (8 * expected) < 0.5) continue;
        ++n_checked;
        std::vector<std::pair<double, double>> points;
        for (size_t i : it->second) {
            const Hit& h = event.hits[i];
            const TruthHit& t = event.truth[i];
            points.emplace_back(h.x, h.y);
            // No smearing: the hit is the true crossing.
            ASSERT_NEAR(h.x, t.tx, 1e-3);
            ASSERT_NEAR(h.y, t.ty, 1e-3);
            ASSERT_NEAR(h.z, t.tz, 1e-3);
            // No scattering or energy loss: pT and pz are kept.
            ASSERT_NEAR(std::hypot(t.tpx, t.tpy), pt, 1e-5 * pt);
            ASSERT_NEAR(t.tpz, p.pz, 1e-5 * std::fabs(p.pz) + 1e-6);
        }
        const auto [xc, yc, radius] = fit_circle(points);
        ASSERT_NEAR(radius / expected, 1.0, 1e-4)
            << "particle " << p.particle_id << " pT " << pt << " with " << points.size() << " hits";
        // A positive charge in a field along +z turns clockwise: the centre is
        // on the right of its direction.
        ASSERT_LT(p.q * (p.px * (yc - p.vy) - p.py * (xc - p.vx)), 0)
            << "particle " << p.particle_id << " turns the wrong way";
        // The circle passes through the vertex, and z grows linearly with the arc length.
        ASSERT_NEAR(std::hypot(p.vx - xc, p.vy - yc), radius, 0.01 + 1e-4 * radius);
        const double vx = p.vx - xc, vy = p.vy - yc;
        for (size_t i : it->second) {
            const double hx = event.hits[i].x - xc, hy = event.hits[i].y - yc;
            const double arc = radius * std::atan2(std::fabs(vx * hy - vy * hx), vx * hx + vy * hy);
            ASSERT_NEAR(event.hits[i].z - p.vz, arc * p.pz / pt,
                        0.01 + 2e-5 * std::fabs(arc * p.pz / pt))
                << "particle " << p.particle_id;
        }
    }
    EXPECT_GT(n_checked, 1000);
}

/// Highland width for a pion of momentum p through `x0` radiation lengths.
double highland(double p, double x0) {
    const double mass = 0.13957;
    const double beta = p / std::sqrt(p * p + mass * mass);
    return 0.0136 / (beta * p) * std::sqrt(x0) * (1 + 0.038 * std::log(x0));
}

TEST(EventSimulator, ScatteringFollowsTheHighlandFormula) {
    EventSimulator::Config cfg;
    cfg.n_particles = 10000;
    cfg.hit_smearing = false;
    cfg.inefficiency = 0;
    cfg.noise_fraction = 0;
    cfg.secondary_fraction = 0;
    const DetectorGeometry geo = DetectorGeometry::trackml_like();
    for (const bool scattering : {true, false}) {
        cfg.multiple_scattering = scattering;
        const TrackmlEvent event = EventSimulator(cfg).simulate(8, 3);
        double sum_pull2 = 0;
        double max_dtheta = 0;
        int n_pairs = 0;
        for (const auto& [id, indices] : hits_by_particle(event)) {
            // Only particles that stay in the barrel, so that consecutive hits are
            // consecutive crossings and the polar-angle change between them is the
            // scattering at the first one (the field does not change it).
            std::vector<std::pair<int, size_t>> barrel;
            for (size_t i : indices) {
                const int index =
                    barrel_layer_index(event.hits[i].volume_id, event.hits[i].layer_id);
                if (index < 0) break;
                barrel.emplace_back(index, i);
            }
            if (barrel.size() != indices.size()) continue;
            std::sort(barrel.begin(), barrel.end());
            for (size_t k = 0; k + 1 < barrel.size(); ++k) {
                const TruthHit& a = event.truth[barrel[k].second];
                const TruthHit& b = event.truth[barrel[k + 1].second];
                const double p = std::sqrt(a.tpx * a.tpx + a.tpy * a.tpy + a.tpz * a.tpz);
                const double dtheta = std::atan2(std::hypot(b.tpx, b.tpy), b.tpz) -
                                      std::atan2(std::hypot(a.tpx, a.tpy), a.tpz);
                const double cos_incidence =
                    (a.tpx * a.tx + a.tpy * a.ty) / (p * std::hypot(a.tx, a.ty));
                const Hit& hit = event.hits[barrel[k].second];
                const double x0 = geo.find_layer(hit.volume_id, hit.layer_id)->thickness_x0 /
                                  std::max(std::fabs(cos_incidence), 0.1);
                sum_pull2 += std::pow(dtheta / highland(p, x0), 2);
                max_dtheta = std::max(max_dtheta, std::fabs(dtheta));
                ++n_pairs;
            }
        }
        ASSERT_GT(n_pairs, 5000);
        if (scattering) {
            EXPECT_NEAR(std::sqrt(sum_pull2 / n_pairs), 1.0, 0.05) << n_pairs << " pairs";
        } else {
            EXPECT_LT(max_dtheta, 1e-5);
        }
    }
}

TEST(EventSimulator, WholeParticleTableIsUsedAsIs) {
    const std::vector<Particle> table = real_particle_table();
    if (table.empty()) GTEST_SKIP() << "TrackML particle table not found";
    EventSimulator::Config cfg;
    cfg.particle_table = table;
    cfg.n_particles = 0;
    const TrackmlEvent event = EventSimulator(cfg).simulate(1000, 1);
    ASSERT_EQ(event.particles.size(), table.size());
    int64_t total_hits = 0;
    for (size_t i = 0; i < table.size(); ++i) {
        Particle expected = table[i];
        expected.nhits = event.particles[i].nhits;  // recounted from the simulated hits
        ASSERT_TRUE(particles_equal(event.particles[i], expected)) << "row " << i;
        total_hits += event.particles[i].nhits;
    }
    // The real event has 103,305 particle hits with the real detector.
    EXPECT_NEAR(static_cast<double>(total_hits), 103305, 0.25 * 103305);
}

TEST(EventSimulator, SampledParticlesKeepTableKinematicsWithUniqueIds) {
    const std::vector<Particle> table = real_particle_table();
    if (table.empty()) GTEST_SKIP() << "TrackML particle table not found";
    std::unordered_map<int64_t, const Particle*> by_id;
    std::vector<double> table_pts;
    for (const Particle& p : table) {
        by_id[p.particle_id] = &p;
        table_pts.push_back(pt_of(p));
    }
    EventSimulator::Config cfg;
    cfg.particle_table = table;
    cfg.n_particles = 10000;
    const EventSimulator sim(cfg);
    const TrackmlEvent event = sim.simulate(1, 7);
    EXPECT_TRUE(events_equal(event, sim.simulate(1, 7)));
    ASSERT_EQ(event.particles.size(), 10000u);
    std::set<int64_t> ids;
    std::vector<double> pts;
    int copies = 0;
    for (const Particle& p : event.particles) {
        EXPECT_TRUE(ids.insert(p.particle_id).second) << "duplicate id " << p.particle_id;
        // Copies of a row carry the row's id plus a multiple of 2^60.
        const int64_t table_id = p.particle_id & ((int64_t{1} << 60) - 1);
        copies += table_id != p.particle_id;
        const auto it = by_id.find(table_id);
        ASSERT_NE(it, by_id.end()) << p.particle_id;
        Particle expected = *it->second;
        expected.particle_id = p.particle_id;
        expected.nhits = p.nhits;
        ASSERT_TRUE(particles_equal(p, expected));
        pts.push_back(pt_of(p));
    }
    EXPECT_GT(copies, 1000) << "10k draws from 12k rows must repeat rows";
    EXPECT_NEAR(quantile(pts, 0.5), quantile(table_pts, 0.5), 0.03);
    EXPECT_NEAR(quantile(pts, 0.9), quantile(table_pts, 0.9), 0.1);
    EXPECT_FALSE(events_equal(event, sim.simulate(1, 8)));
}

TEST(EventSimulator, SamplingASmallTableGivesUniqueIds) {
    // Two rows drawn 200 times: copies beyond the seventh need fresh ids.
    Particle a;
    a.particle_id = 17;
    a.px = 1.5f;
    a.pz = 0.5f;
    a.q = 1;
    Particle b = a;
    b.particle_id = (int64_t{1} << 61) + 3;  // no room for a copy counter above bit 60
    b.py = -2.f;
    b.q = -1;
    EventSimulator::Config cfg;
    cfg.particle_table = {a, b};
    cfg.n_particles = 200;
    cfg.inefficiency = 0;
    const TrackmlEvent event = EventSimulator(cfg).simulate(1, 1);
    ASSERT_EQ(event.particles.size(), 200u);
    std::set<int64_t> ids;
    int from_a = 0;
    for (const Particle& p : event.particles) {
        EXPECT_TRUE(ids.insert(p.particle_id).second) << "duplicate id " << p.particle_id;
        Particle expected = p.q == 1 ? a : b;
        from_a += p.q == 1;
        expected.particle_id = p.particle_id;
        expected.nhits = p.nhits;
        EXPECT_TRUE(particles_equal(p, expected));
        EXPECT_EQ(p.nhits, kNumBarrelLayers) << "a central track from the origin, pT > 1 GeV";
    }
    EXPECT_NEAR(from_a, 100, 30);
}

TEST(EventSimulator, SimulatedEventRoundTripsThroughCsv) {
    EventSimulator::Config cfg;
    cfg.n_particles = 300;
    const TrackmlEvent event = EventSimulator(cfg).simulate(12, 4);
    const fs::path dir =
        fs::path(testing::TempDir()) / fmt::format("hepgnn_sim_roundtrip_{}", getpid());
    write_trackml_event(dir, event);
    const TrackmlEvent back = read_trackml_event(dir, 12);
    fs::remove_all(dir);
    EXPECT_TRUE(events_equal(event, back));
}

TEST(EventSimulator, InvalidConfigIsNamed) {
    EventSimulator::Config cfg;
    cfg.noise_fraction = 1.0;
    EXPECT_NE(error_of([&] { EventSimulator{cfg}; }).find("noise_fraction"), std::string::npos);
    cfg = {};
    cfg.b_field = 0;
    EXPECT_NE(error_of([&] { EventSimulator{cfg}; }).find("b_field"), std::string::npos);
    cfg = {};
    cfg.n_particles = 0;
    EXPECT_NE(error_of([&] { EventSimulator{cfg}; }).find("n_particles"), std::string::npos);
    cfg = {};
    Particle p;
    p.particle_id = 5;
    p.px = 1;
    p.q = 1;
    cfg.particle_table = {p, p};
    EXPECT_NE(error_of([&] { EventSimulator{cfg}; }).find("particle_id 5 appears twice"),
              std::string::npos);
}

}  // namespace
}  // namespace hepgnn::data
