#include "data/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <unordered_set>
#include <utility>

#include "core/error.hpp"
#include "data/trackml_weights.hpp"

namespace hepgnn::data {

// Note [Simulation physics]
// Per particle: a vertex (the beam spot of Note [TrackML beam spot], or a
// displaced decay vertex for a fraction of particles), pT from a log-normal
// core plus power-law tail fitted to TrackML event 1000 (median 0.35 GeV,
// 90% below 1.1 GeV), eta from a uniform plus central-Gaussian mix, charge
// +-1. The particle is a helix in the solenoid field. From its current
// state we intersect the helix analytically with every layer, step to the
// nearest crossing ahead, record the module(s) it crosses there (Note
// [Double hits]), deflect the direction by multiple scattering (Highland)
// and repeat, until the particle leaves the detector volume, completes half
// a turn in the transverse plane (loopers would otherwise cross the same
// layers again and again), or reaches max_crossings. A module crossing
// leaves a hit unless the module is inefficient; the hit is smeared in the
// module's local coordinates (r*phi and z on a barrel cylinder, r*phi and r
// on a disk), so it stays exactly on the module's surface. Noise hits are
// spread over the layers in proportion to their module count. There is no
// energy loss. Hit weights are TrackML's (Note [TrackML weights] in
// trackml_weights.cpp).
//
// Note [TrackML beam spot]
// Measured on the real table (share/trackml/event000001000-particles.csv):
// its primaries, i.e. rows with zero low 36 id bits at the modal position of
// their vertex group (id bits 52+), 8,436 particles of 159 vertices, have
// vz mean -0.29 mm, sigma 5.87 mm, 1-99% in [-11.8, 13.4] mm, and
// sigma 0.0148 (x) / 0.0134 (y) mm in the transverse plane. The default
// beam spot is that Gaussian (z: mean -0.3, sigma 5.9; x and y: sigma
// 0.0144, their quadratic mean; in mm). With 159 vertices the measured mean
// is uncertain by ~0.5 mm: one event's offset, kept because it is the data
// we have. HL-LHC's luminous region is ~50 mm long in z (beam_sigma_z = 50).
//
// Note [Double hits]
// A layer crossing is found on the layer's nominal surface (`position`).
// Two modules may be crossed there: the one whose phi slot holds that point
// and its phi neighbour on the nearer side. A module is crossed when the
// helix meets its own (possibly staggered) surface within its
// overlap-widened phi range (Note [Module overlaps] in
// detector_geometry.cpp), so an overlap gives a hit on each module, while
// a looper near its turning point may pass beside both. Hits go in path
// order; the particle continues from the later one, deflected once by the
// material of every module it crossed (they are a few mm apart). Each
// module has its own efficiency draw. With double_hits off, only the first
// module counts, crossed wherever the helix meets its surface.
//
// Note [Determinism]
// Events must be identical on every platform, so the random numbers come
// from std::mt19937_64 (its output is fixed by the standard) and every
// distribution is written here by hand; std::normal_distribution and
// friends are implementation-defined. Particle kinematics, detector effects
// and noise use separate streams, and each particle has a detector stream
// of its own, so that switching one effect off does not reshuffle the
// others nor, through a changed path, the numbers of later particles; a
// crossing draws its numbers whether or not each effect is on, for the same
// reason.

namespace {

constexpr double kPi = 3.14159265358979323846;
// Transverse radius R[mm] = pT[GeV] / (kCurvatureConstant * |q| * B[T]): the
// usual R[m] = pT / (0.3 B), with 0.3 rounded from 0.2998.
constexpr double kCurvatureConstant = 0.3e-3;
// Steps shorter than this (mm) are the current point itself, found again.
constexpr double kMinStep = 1e-4;
constexpr double kInf = std::numeric_limits<double>::infinity();

uint64_t splitmix64(uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

enum class Stream : uint64_t { kParticles = 1, kDetector = 2, kNoise = 3 };

/// Random numbers with hand-written distributions (Note [Determinism]).
class Rng {
public:
    /// `substream` separates e.g. the particles' detector streams.
    Rng(uint64_t seed, int64_t event_id, Stream stream, uint64_t substream = 0)
        : engine_(
              splitmix64(splitmix64(splitmix64(splitmix64(seed) ^ static_cast<uint64_t>(event_id)) ^
                                    static_cast<uint64_t>(stream)) ^
                         splitmix64(substream))) {}

    /// Uniform in [0, 1), from the top 53 bits.
    double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

    /// Standard normal, Box-Muller (both values of a pair are used).
    double normal() {
        if (has_spare_) {
            has_spare_ = false;
            return spare_;
        }
        const double u1 = 1.0 - uniform();  // in (0, 1], so log() is finite
        const double u2 = uniform();
        const double radius = std::sqrt(-2.0 * std::log(u1));
        spare_ = radius * std::sin(2 * kPi * u2);
        has_spare_ = true;
        return radius * std::cos(2 * kPi * u2);
    }

    double exponential(double mean) { return -mean * std::log(1.0 - uniform()); }

    /// Uniform integer in [0, n).
    size_t index(size_t n) {
        const auto i = static_cast<size_t>(uniform() * static_cast<double>(n));
        return i < n ? i : n - 1;
    }

private:
    std::mt19937_64 engine_;
    double spare_ = 0;
    bool has_spare_ = false;
};

struct Vec3 {
    double x = 0, y = 0, z = 0;
};

Vec3 operator+(Vec3 a, Vec3 b) {
    return {a.x + b.x, a.y + b.y, a.z + b.z};
}
Vec3 operator*(double s, Vec3 a) {
    return {s * a.x, s * a.y, s * a.z};
}
double dot(Vec3 a, Vec3 b) {
    return a.x * b.x + a.y * b.y + a.z * b.z;
}
Vec3 cross(Vec3 a, Vec3 b) {
    return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
double norm(Vec3 a) {
    return std::sqrt(dot(a, a));
}

/// The helix through the current point, parametrised by the transverse path
/// length s: direction angle phi(s) = phi0 + kappa * s, centre (xc, yc).
struct Helix {
    Vec3 start;
    double pt = 0, pz = 0;
    double kappa = 0;  // signed curvature (1/mm); > 0 turns counter-clockwise
    double phi0 = 0;
    double xc = 0, yc = 0;
    double radius = 0;           // 1 / |kappa|
    double tan_dip = 0;          // dz / ds
    double centre_distance = 0;  // |(xc, yc)|

    Helix(Vec3 position, Vec3 momentum, int charge, double b_field) : start(position) {
        pt = std::hypot(momentum.x, momentum.y);
        pz = momentum.z;
        // A positive charge in a field along +z turns clockwise.
        kappa = -charge * kCurvatureConstant * b_field / pt;
        radius = 1.0 / std::fabs(kappa);
        phi0 = std::atan2(momentum.y, momentum.x);
        xc = position.x - std::sin(phi0) / kappa;
        yc = position.y + std::cos(phi0) / kappa;
        tan_dip = pz / pt;
        centre_distance = std::hypot(xc, yc);
    }

    Vec3 position(double s) const {
        const double phi = phi0 + kappa * s;
        return {xc + std::sin(phi) / kappa, yc - std::cos(phi) / kappa, start.z + s * tan_dip};
    }

    Vec3 momentum(double s) const {
        const double phi = phi0 + kappa * s;
        return {pt * std::cos(phi), pt * std::sin(phi), pz};
    }

    /// Smallest s in (kMinStep, s_max) where the helix meets the cylinder of
    /// radius r with z in [z_min, z_max]; +inf if none.
    double intersect_cylinder(double r, double z_min, double z_max, double s_max) const {
        const double d = centre_distance;
        if (d < 1e-9 || d > radius + r || d < std::fabs(radius - r)) return kInf;
        // Two circles: |p| = r and |p - c| = radius. Along c at distance a from
        // the origin, +- h perpendicular to it.
        const double a = (r * r - radius * radius + d * d) / (2 * d);
        const double h = std::sqrt(std::max(0.0, r * r - a * a));
        const double ux = xc / d, uy = yc / d;
        const double rel_x = start.x - xc, rel_y = start.y - yc;  // start relative to centre
        double best = kInf;
        for (const double sign : {1.0, -1.0}) {
            const double qx = a * ux - sign * h * uy - xc;
            const double qy = a * uy + sign * h * ux - yc;
            // Angle swept around the centre from the start to the crossing.
            const double swept = std::atan2(rel_x * qy - rel_y * qx, rel_x * qx + rel_y * qy);
            double s = swept / kappa;
            if (s <= kMinStep) s += 2 * kPi * radius;
            if (s >= s_max || s >= best) continue;
            const double z = start.z + s * tan_dip;
            if (z >= z_min && z <= z_max) best = s;
        }
        return best;
    }

    /// Smallest s in (kMinStep, s_max) where the helix meets the plane z with
    /// r in [r_min, r_max]; +inf if none.
    double intersect_disk(double z, double r_min, double r_max, double s_max) const {
        if (tan_dip == 0) return kInf;
        const double s = (z - start.z) / tan_dip;
        if (s <= kMinStep || s >= s_max) return kInf;
        const Vec3 p = position(s);
        const double r = std::hypot(p.x, p.y);
        return r >= r_min && r <= r_max ? s : kInf;
    }

    /// Path length at which the helix leaves the cylinder r < r_world, |z| < z_world.
    double exit_length(double r_world, double z_world) const {
        double s = intersect_cylinder(r_world, -kInf, kInf, kInf);
        if (tan_dip != 0) s = std::min(s, ((tan_dip > 0 ? z_world : -z_world) - start.z) / tan_dip);
        return s;
    }
};

/// Deflects unit vector `dir` by the small angles (theta1, theta2) about two
/// axes perpendicular to it.
Vec3 deflect(Vec3 dir, double theta1, double theta2) {
    // Any unit vector perpendicular to dir, then a second one.
    const Vec3 helper = std::fabs(dir.z) < 0.9 ? Vec3{0, 0, 1} : Vec3{1, 0, 0};
    Vec3 u = cross(dir, helper);
    u = (1.0 / norm(u)) * u;
    const Vec3 v = cross(dir, u);
    const double theta = std::hypot(theta1, theta2);
    if (theta == 0) return dir;
    const double sin_over_theta = std::sin(theta) / theta;
    return std::cos(theta) * dir + sin_over_theta * (theta1 * u + theta2 * v);
}

/// Highland's width of the projected scattering angle for a particle of
/// momentum p (GeV), mass m, charge q through x/X0 = thickness.
double highland_theta0(double p, double mass, int charge, double thickness) {
    const double energy = std::sqrt(p * p + mass * mass);
    const double beta_p = p * p / energy;
    return 0.0136 / beta_p * std::abs(charge) * std::sqrt(thickness) *
           (1 + 0.038 * std::log(thickness));
}

double draw_pt(const EventSimulator::Config& cfg, Rng& rng) {
    for (int attempt = 0; attempt < 100000; ++attempt) {
        double pt;
        if (rng.uniform() < cfg.pt_tail_fraction) {
            // Inverse CDF of pT^-n above pt_tail_min, cut at pt_max.
            const double e = 1.0 - cfg.pt_tail_index;
            const double lo = std::pow(cfg.pt_tail_min, e), hi = std::pow(cfg.pt_max, e);
            pt = std::pow(lo + rng.uniform() * (hi - lo), 1.0 / e);
        } else {
            pt = std::exp(cfg.pt_core_log_mean + cfg.pt_core_log_sigma * rng.normal());
        }
        if (pt >= cfg.pt_min && pt <= cfg.pt_max) return pt;
    }
    HEPGNN_FAIL(
        "simulation config: the pT spectrum puts almost no particles in [pt_min, pt_max] = "
        "[{}, {}] GeV; widen the range or move pt_core_log_mean / the tail into it",
        cfg.pt_min, cfg.pt_max);
}

double draw_eta(const EventSimulator::Config& cfg, Rng& rng) {
    if (rng.uniform() < cfg.eta_central_fraction) {
        // Redraw outside +-eta_max; give up (uniform) if the Gaussian barely fits.
        for (int attempt = 0; attempt < 1000; ++attempt) {
            const double eta = cfg.eta_central_sigma * rng.normal();
            if (std::fabs(eta) <= cfg.eta_max) return eta;
        }
    }
    return rng.uniform(-cfg.eta_max, cfg.eta_max);
}

std::vector<Particle> generate_particles(const EventSimulator::Config& cfg, Rng& rng) {
    std::vector<Particle> particles;
    particles.reserve(static_cast<size_t>(cfg.n_particles));
    int64_t n_secondary_vertices = 0;
    for (int64_t i = 0; i < cfg.n_particles; ++i) {
        const double pt = draw_pt(cfg, rng);
        const double eta = draw_eta(cfg, rng);
        const double phi = rng.uniform(-kPi, kPi);
        const int charge = rng.uniform() < cfg.positive_fraction ? 1 : -1;
        Vec3 vertex{cfg.beam_sigma_xy * rng.normal(), cfg.beam_sigma_xy * rng.normal(),
                    cfg.beam_mean_z + cfg.beam_sigma_z * rng.normal()};
        int64_t vertex_number = 0;  // 0 = primary vertex
        if (rng.uniform() < cfg.secondary_fraction) {
            // A decay product: the parent flew roughly along the daughter's direction.
            const double parent_phi = phi + 0.3 * rng.normal();
            const double parent_eta = eta + 0.3 * rng.normal();
            const Vec3 flight{std::cos(parent_phi) / std::cosh(parent_eta),
                              std::sin(parent_phi) / std::cosh(parent_eta), std::tanh(parent_eta)};
            vertex = vertex + rng.exponential(cfg.secondary_decay_length) * flight;
            vertex_number = ++n_secondary_vertices;
        }
        Particle p;
        // Bits 40 and up name the displaced vertex, 0 for the beam spot. (TrackML
        // differs: bits 52+ name the primary vertex, and secondaries carry
        // non-zero bits below 36; no code here decodes either.)
        p.particle_id = (vertex_number << 40) | (i + 1);
        p.vx = static_cast<float>(vertex.x);
        p.vy = static_cast<float>(vertex.y);
        p.vz = static_cast<float>(vertex.z);
        p.px = static_cast<float>(pt * std::cos(phi));
        p.py = static_cast<float>(pt * std::sin(phi));
        p.pz = static_cast<float>(pt * std::sinh(eta));
        p.q = charge;
        particles.push_back(p);
    }
    return particles;
}

std::vector<Particle> sample_particles(const EventSimulator::Config& cfg, Rng& rng) {
    const std::vector<Particle>& table = cfg.particle_table;
    if (cfg.n_particles <= 0) return table;

    // Note [Duplicate particle ids]: a row drawn k > 0 times before gets
    // id + k * 2^60 (TrackML ids use 60 bits or fewer), so its origin stays
    // readable; if that is not possible or collides, a fresh id above all
    // others is used.
    constexpr int64_t kCopyBit = int64_t{1} << 60;
    std::unordered_set<int64_t> used;
    used.reserve(table.size() + static_cast<size_t>(cfg.n_particles));
    int64_t max_id = 0;
    for (const Particle& p : table) {
        used.insert(p.particle_id);
        max_id = std::max(max_id, p.particle_id);
    }
    std::vector<int32_t> times_drawn(table.size(), 0);
    std::vector<Particle> particles;
    particles.reserve(static_cast<size_t>(cfg.n_particles));
    for (int64_t i = 0; i < cfg.n_particles; ++i) {
        const size_t row = rng.index(table.size());
        Particle p = table[row];
        const int32_t copy = times_drawn[row]++;
        if (copy > 0) {
            const int64_t id = p.particle_id;
            if (id > 0 && id < kCopyBit && copy < 8 && !used.count(id + copy * kCopyBit)) {
                p.particle_id = id + copy * kCopyBit;
            } else {
                do {
                    HEPGNN_CHECK(max_id < std::numeric_limits<int64_t>::max(),
                                 "particle table: no free particle id above {} for a repeated "
                                 "row; renumber the table with smaller ids",
                                 max_id);
                    ++max_id;
                } while (used.count(max_id) != 0);
                p.particle_id = max_id;
            }
            used.insert(p.particle_id);
        }
        particles.push_back(p);
    }
    return particles;
}

struct HitRecord {
    Hit hit;
    TruthHit truth;
    size_t particle_index;  // into the event's particles; SIZE_MAX for noise
};

/// The random numbers of one module crossing.
struct ModuleDraws {
    bool efficient = true;
    double smear_rphi = 0, smear_long = 0;
};

}  // namespace

EventSimulator::EventSimulator(Config config) : m_cfg(std::move(config)) {
    const Config& c = m_cfg;
    HEPGNN_CHECK(!c.geometry.layers.empty(), "simulation config: the detector has no layers");
    for (const DetectorLayer& layer : c.geometry.layers) {
        HEPGNN_CHECK(layer.long_min < layer.long_max && layer.n_modules_phi >= 1 &&
                         layer.n_modules_long >= 1 && layer.thickness_x0 >= 0 &&
                         layer.sigma_rphi >= 0 && layer.sigma_long >= 0,
                     "simulation config: detector layer {}/{} needs long_min < long_max, at "
                     "least one module each way, and non-negative material and resolutions",
                     layer.volume_id, layer.layer_id);
        HEPGNN_CHECK(0 <= layer.phi_overlap && layer.phi_overlap < 0.5 && layer.stagger >= 0,
                     "simulation config: detector layer {}/{} needs phi_overlap in [0, 0.5) and "
                     "stagger >= 0, got {} and {} mm",
                     layer.volume_id, layer.layer_id, layer.phi_overlap, layer.stagger);
        HEPGNN_CHECK(layer.stagger == 0 || layer.n_modules_phi % 2 == 0,
                     "simulation config: detector layer {}/{} has a stagger but {} modules in "
                     "phi; staggered and unstaggered modules alternate, so make it even",
                     layer.volume_id, layer.layer_id, layer.n_modules_phi);
    }
    HEPGNN_CHECK(c.b_field > 0, "simulation config: b_field = {} T must be positive", c.b_field);
    HEPGNN_CHECK(c.n_particles > 0 || !c.particle_table.empty(),
                 "simulation config: n_particles = {} must be positive (or give a particle "
                 "table)",
                 c.n_particles);
    HEPGNN_CHECK(0 < c.pt_min && c.pt_min < c.pt_max,
                 "simulation config: need 0 < pt_min < pt_max, got pt_min = {}, pt_max = {}",
                 c.pt_min, c.pt_max);
    HEPGNN_CHECK(c.pt_core_log_sigma >= 0, "simulation config: pt_core_log_sigma = {} < 0",
                 c.pt_core_log_sigma);
    HEPGNN_CHECK(0 <= c.pt_tail_fraction && c.pt_tail_fraction <= 1,
                 "simulation config: pt_tail_fraction = {} is outside [0, 1]", c.pt_tail_fraction);
    HEPGNN_CHECK(c.pt_tail_fraction == 0 ||
                     (c.pt_tail_index > 1 && c.pt_tail_min > 0 && c.pt_tail_min < c.pt_max),
                 "simulation config: the pT tail needs pt_tail_index > 1 and 0 < pt_tail_min < "
                 "pt_max, got pt_tail_index = {}, pt_tail_min = {}",
                 c.pt_tail_index, c.pt_tail_min);
    HEPGNN_CHECK(c.eta_max > 0, "simulation config: eta_max = {} must be positive", c.eta_max);
    HEPGNN_CHECK(0 <= c.eta_central_fraction && c.eta_central_fraction <= 1 &&
                     (c.eta_central_fraction == 0 || c.eta_central_sigma > 0),
                 "simulation config: need eta_central_fraction in [0, 1] and eta_central_sigma > "
                 "0, got {} and {}",
                 c.eta_central_fraction, c.eta_central_sigma);
    HEPGNN_CHECK(0 <= c.positive_fraction && c.positive_fraction <= 1,
                 "simulation config: positive_fraction = {} is outside [0, 1]",
                 c.positive_fraction);
    HEPGNN_CHECK(c.beam_sigma_xy >= 0 && c.beam_sigma_z >= 0,
                 "simulation config: beam spot sizes must be >= 0, got beam_sigma_xy = {}, "
                 "beam_sigma_z = {}",
                 c.beam_sigma_xy, c.beam_sigma_z);
    HEPGNN_CHECK(std::isfinite(c.beam_mean_z) && std::fabs(c.beam_mean_z) < c.geometry.world_z,
                 "simulation config: beam_mean_z = {} mm must lie inside the detector (|z| < {})",
                 c.beam_mean_z, c.geometry.world_z);
    HEPGNN_CHECK(
        0 <= c.secondary_fraction && c.secondary_fraction <= 1 && c.secondary_decay_length >= 0,
        "simulation config: need secondary_fraction in [0, 1] and "
        "secondary_decay_length >= 0, got {} and {}",
        c.secondary_fraction, c.secondary_decay_length);
    HEPGNN_CHECK(c.particle_mass >= 0, "simulation config: particle_mass = {} < 0",
                 c.particle_mass);
    HEPGNN_CHECK(0 <= c.inefficiency && c.inefficiency <= 1,
                 "simulation config: inefficiency = {} is outside [0, 1]", c.inefficiency);
    HEPGNN_CHECK(0 <= c.noise_fraction && c.noise_fraction < 1,
                 "simulation config: noise_fraction = {} is outside [0, 1)", c.noise_fraction);
    HEPGNN_CHECK(c.max_crossings >= 0, "simulation config: max_crossings = {} < 0",
                 c.max_crossings);

    std::unordered_set<int64_t> ids;
    ids.reserve(c.particle_table.size());
    for (size_t i = 0; i < c.particle_table.size(); ++i) {
        const Particle& p = c.particle_table[i];
        HEPGNN_CHECK(p.particle_id != 0,
                     "particle table row {}: particle_id 0 is reserved for noise hits", i + 1);
        HEPGNN_CHECK(ids.insert(p.particle_id).second,
                     "particle table row {}: particle_id {} appears twice (ids must be unique)",
                     i + 1, p.particle_id);
        HEPGNN_CHECK(std::isfinite(p.vx) && std::isfinite(p.vy) && std::isfinite(p.vz) &&
                         std::isfinite(p.px) && std::isfinite(p.py) && std::isfinite(p.pz),
                     "particle table row {} (particle_id {}): vertex or momentum is not finite",
                     i + 1, p.particle_id);
    }

    double total = 0;
    for (const DetectorLayer& layer : c.geometry.layers) {
        total += layer.n_modules();
        m_noise_cdf.push_back(total);
    }
}

TrackmlEvent EventSimulator::simulate(int64_t event_id, uint64_t seed) const {
    const Config& cfg = m_cfg;
    const DetectorGeometry& geo = cfg.geometry;
    Rng particle_rng(seed, event_id, Stream::kParticles);
    Rng noise_rng(seed, event_id, Stream::kNoise);

    TrackmlEvent event;
    event.event_id = event_id;
    event.particles = cfg.particle_table.empty() ? generate_particles(cfg, particle_rng)
                                                 : sample_particles(cfg, particle_rng);

    std::vector<HitRecord> records;
    records.reserve(event.particles.size() * 12);
    for (size_t ip = 0; ip < event.particles.size(); ++ip) {
        Particle& particle = event.particles[ip];
        particle.nhits = 0;
        Rng detector_rng(seed, event_id, Stream::kDetector, ip);  // Note [Determinism]
        Vec3 pos{particle.vx, particle.vy, particle.vz};
        Vec3 mom{particle.px, particle.py, particle.pz};
        const double p = norm(mom);
        if (particle.q == 0 || std::hypot(mom.x, mom.y) == 0) continue;  // no hits to leave
        if (std::hypot(pos.x, pos.y) >= geo.world_r || std::fabs(pos.z) >= geo.world_z) continue;

        double s_travelled = 0;
        for (int crossing = 0; crossing < cfg.max_crossings; ++crossing) {
            if (std::hypot(mom.x, mom.y) < 1e-9 * p) break;  // scattered along z: no helix
            const Helix helix(pos, mom, particle.q, cfg.b_field);
            const double s_stop = std::min(kPi * helix.radius - s_travelled,
                                           helix.exit_length(geo.world_r, geo.world_z));
            double s_next = kInf;
            const DetectorLayer* next = nullptr;
            for (const DetectorLayer& layer : geo.layers) {
                const double s = layer.kind == LayerKind::kBarrel
                                     ? helix.intersect_cylinder(layer.position, layer.long_min,
                                                                layer.long_max, s_stop)
                                     : helix.intersect_disk(layer.position, layer.long_min,
                                                            layer.long_max, s_stop);
                if (s < s_next) {
                    s_next = s;
                    next = &layer;
                }
            }
            if (next == nullptr) break;
            const DetectorLayer& layer = *next;
            const bool barrel = layer.kind == LayerKind::kBarrel;

            // Note [Double hits]: the module whose phi slot holds the crossing
            // of the nominal surface, and its phi neighbour on the nearer side.
            const Vec3 nominal = helix.position(s_next);
            const double nominal_phi = std::atan2(nominal.y, nominal.x);
            const int32_t n_phi = layer.n_modules_phi;
            const int32_t own = layer.phi_index(nominal_phi);
            const int32_t neighbour =
                (own + (layer.phi_in_slot(nominal_phi) < 0.5 ? n_phi - 1 : 1)) % n_phi;
            const int32_t slots[2] = {own, neighbour};

            // Draw every number whether or not its effect is on (Note [Determinism]).
            ModuleDraws draws[2];
            for (ModuleDraws& d : draws) {
                d.efficient = detector_rng.uniform() >= cfg.inefficiency;
                d.smear_rphi = detector_rng.normal();
                d.smear_long = detector_rng.normal();
            }
            const double scatter1 = detector_rng.normal(), scatter2 = detector_rng.normal();

            // Where the helix meets each module's own surface, in path order.
            double s_module[2] = {kInf, kInf};
            for (int m = 0; m < 2; ++m) {
                if (m == 1 && (!cfg.double_hits || n_phi < 2)) continue;
                const double surface = layer.module_position(slots[m]);
                s_module[m] =
                    surface == layer.position ? s_next
                    : barrel
                        ? helix.intersect_cylinder(surface, layer.long_min, layer.long_max, s_stop)
                        : helix.intersect_disk(surface, layer.long_min, layer.long_max, s_stop);
                if (cfg.double_hits && s_module[m] < kInf) {
                    const Vec3 q = helix.position(s_module[m]);
                    if (!layer.module_covers_phi(slots[m], std::atan2(q.y, q.x))) {
                        s_module[m] = kInf;  // passes beside the module
                    }
                }
            }
            const int first = s_module[1] < s_module[0] ? 1 : 0;
            double s_last = s_next;  // where the particle goes on from
            double material = 0;     // x/X0 crossed, summed over the modules
            for (const int m : {first, 1 - first}) {
                const double s_hit = s_module[m];
                if (s_hit == kInf) continue;
                s_last = s_hit;
                const Vec3 at = helix.position(s_hit);
                const Vec3 at_mom = helix.momentum(s_hit);
                const double r = std::hypot(at.x, at.y);
                // Path through the module grows as 1/cos(incidence); capped for
                // grazing crossings, which in reality leave the module sideways.
                const double cos_incidence =
                    (barrel ? (at_mom.x * at.x + at_mom.y * at.y) / r : at_mom.z) / p;
                material += layer.thickness_x0 / std::max(std::fabs(cos_incidence), 0.1);
                if (!draws[m].efficient) continue;

                HitRecord rec;
                rec.particle_index = ip;
                const double width_rphi = cfg.hit_smearing ? layer.sigma_rphi : 0.0;
                const double width_long = cfg.hit_smearing ? layer.sigma_long : 0.0;
                // Smear in the module's local frame; the hit stays on its surface.
                double hit_r, hit_z;
                if (barrel) {
                    hit_r = layer.module_position(slots[m]);
                    hit_z = at.z + width_long * draws[m].smear_long;
                } else {
                    hit_r = r + width_long * draws[m].smear_long;
                    hit_z = layer.module_position(slots[m]);
                }
                const double hit_phi =
                    std::atan2(at.y, at.x) + width_rphi * draws[m].smear_rphi / hit_r;
                rec.hit.x = static_cast<float>(hit_r * std::cos(hit_phi));
                rec.hit.y = static_cast<float>(hit_r * std::sin(hit_phi));
                rec.hit.z = static_cast<float>(hit_z);
                rec.hit.volume_id = layer.volume_id;
                rec.hit.layer_id = layer.layer_id;
                rec.hit.module_id =
                    layer.module_id_of_slots(slots[m], layer.long_index(barrel ? at.z : r));
                rec.truth.particle_id = particle.particle_id;
                rec.truth.tx = static_cast<float>(at.x);
                rec.truth.ty = static_cast<float>(at.y);
                rec.truth.tz = static_cast<float>(at.z);
                rec.truth.tpx = static_cast<float>(at_mom.x);
                rec.truth.tpy = static_cast<float>(at_mom.y);
                rec.truth.tpz = static_cast<float>(at_mom.z);
                records.push_back(rec);
                ++particle.nhits;
            }

            s_travelled += s_last;
            pos = helix.position(s_last);
            mom = helix.momentum(s_last);
            if (cfg.multiple_scattering && material > 0) {
                // One deflection for the modules of the layer: they are mm apart.
                const double theta0 = highland_theta0(p, cfg.particle_mass, particle.q, material);
                mom = p * deflect((1.0 / p) * mom, theta0 * scatter1, theta0 * scatter2);
            }
        }
    }

    // Noise hits, spread over the layers like the modules are.
    const size_t n_signal = records.size();
    const auto n_noise =
        static_cast<size_t>(std::llround(cfg.noise_fraction / (1 - cfg.noise_fraction) * n_signal));
    const double total_modules = m_noise_cdf.back();
    for (size_t i = 0; i < n_noise; ++i) {
        const double pick = noise_rng.uniform() * total_modules;
        const size_t li = std::min<size_t>(
            std::upper_bound(m_noise_cdf.begin(), m_noise_cdf.end(), pick) - m_noise_cdf.begin(),
            m_noise_cdf.size() - 1);
        const DetectorLayer& layer = geo.layers[li];
        const double phi = noise_rng.uniform(-kPi, kPi);
        const double u = noise_rng.uniform();
        // On the surface of the module whose slot holds phi.
        const double surface = layer.module_position(layer.phi_index(phi));
        double r, z;
        if (layer.kind == LayerKind::kBarrel) {
            r = surface;
            z = layer.long_min + u * (layer.long_max - layer.long_min);
        } else {
            // Uniform in area on the disk.
            const double r2_min = layer.long_min * layer.long_min;
            const double r2_max = layer.long_max * layer.long_max;
            r = std::sqrt(r2_min + u * (r2_max - r2_min));
            z = surface;
        }
        HitRecord rec;
        rec.particle_index = SIZE_MAX;
        rec.hit.x = static_cast<float>(r * std::cos(phi));
        rec.hit.y = static_cast<float>(r * std::sin(phi));
        rec.hit.z = static_cast<float>(z);
        rec.hit.volume_id = layer.volume_id;
        rec.hit.layer_id = layer.layer_id;
        rec.hit.module_id = layer.module_id(phi, layer.kind == LayerKind::kBarrel ? z : r);
        rec.truth.tx = rec.hit.x;
        rec.truth.ty = rec.hit.y;
        rec.truth.tz = rec.hit.z;
        records.push_back(rec);
    }

    // Order like TrackML; the creation index breaks ties so the order is fixed.
    std::vector<uint32_t> order(records.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<uint32_t>(i);
    std::sort(order.begin(), order.end(), [&records](uint32_t a, uint32_t b) {
        const Hit& ha = records[a].hit;
        const Hit& hb = records[b].hit;
        if (ha.volume_id != hb.volume_id) return ha.volume_id < hb.volume_id;
        if (ha.layer_id != hb.layer_id) return ha.layer_id < hb.layer_id;
        if (ha.module_id != hb.module_id) return ha.module_id < hb.module_id;
        return a < b;
    });

    event.hits.resize(records.size());
    event.truth.resize(records.size());
    for (size_t i = 0; i < order.size(); ++i) {
        const HitRecord& rec = records[order[i]];
        const auto hit_id = static_cast<int64_t>(i + 1);
        event.hits[i] = rec.hit;
        event.hits[i].hit_id = hit_id;
        event.truth[i] = rec.truth;
        event.truth[i].hit_id = hit_id;
    }
    const std::vector<float> weights = trackml_hit_weights(event);
    for (size_t i = 0; i < weights.size(); ++i) event.truth[i].weight = weights[i];
    return event;
}

}  // namespace hepgnn::data
