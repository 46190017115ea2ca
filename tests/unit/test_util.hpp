// Helpers shared by the unit tests: a temporary folder removed at the end of
// a test, and a small random event graph.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>
#include <string>

#include "core/error.hpp"
#include "data/event_graph.hpp"

namespace hepgnn::testing_util {

/// The message of the hepgnn::Error that `f` throws; fails the test (and returns "") if `f`
/// throws none.
template <typename F>
std::string error_of(F&& f) {
    try {
        f();
    } catch (const hepgnn::Error& e) {
        return e.what();
    }
    ADD_FAILURE() << "expected a hepgnn::Error";
    return "";
}

class TempDir {
public:
    /// A new folder under `base` (default: the system's temporary folder).
    explicit TempDir(const std::filesystem::path& base = std::filesystem::temp_directory_path()) {
        static int counter = 0;
        path_ =
            base / ("hepgnn-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

/// A random graph with `n` nodes and `e` edges (3 features, truth columns).
inline data::EventGraph random_graph(int64_t event_id, int32_t section, int n, int e,
                                     unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(-1.0f, 1.0f);
    std::uniform_int_distribution<int> node(0, n - 1);
    data::EventGraph g;
    g.event_id = event_id;
    g.section_id = section;
    g.n_nodes = n;
    g.n_features = 3;
    for (int i = 0; i < n * 3; ++i) g.x.push_back(u(rng));
    for (int i = 0; i < n; ++i) {
        g.hit_id.push_back(1000 + i);
        g.particle_id.push_back(i % 7);
        g.pt.push_back(0.5f + (i % 5));
    }
    for (int k = 0; k < e; ++k) {
        g.senders.push_back(node(rng));
        g.receivers.push_back(node(rng));
        g.y.push_back(static_cast<uint8_t>(k % 3 == 0));
    }
    return g;
}

}  // namespace hepgnn::testing_util
