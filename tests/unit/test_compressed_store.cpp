#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/error.hpp"
#include "data/compressed_store.hpp"
#include "data/prefetcher.hpp"
#include "test_util.hpp"

namespace hepgnn::data {
// The test-only door into the store (a friend of CompressedGraphStore).
struct CompressedGraphStoreTestPeer {
    static std::vector<uint8_t>& buffer(CompressedGraphStore& store, int64_t i) {
        return store.entries_.at(static_cast<size_t>(i)).data;
    }
};
}  // namespace hepgnn::data

using namespace hepgnn::data;
using hepgnn::testing_util::random_graph;
using Store = CompressedGraphStore;

namespace {

/// A graph shaped like `prepare`'s output: nodes ordered by layer and phi,
/// features r (near the barrel radii / 1000, in [0.03, 1.02]), phi and z in
/// [-1, 1]; edges from each inner node (senders ascending) to a few nodes of
/// the next layer close in phi (receivers nearby); about 4% true edges.
EventGraph realistic_graph(int64_t event_id, int32_t section, int n_nodes, unsigned seed,
                           bool truth = true) {
    static const float kRadii[] = {0.032f, 0.072f, 0.116f, 0.172f, 0.260f,
                                   0.360f, 0.500f, 0.660f, 0.820f, 1.020f};
    constexpr int kLayers = 10;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> unit(-1.0f, 1.0f);
    std::normal_distribution<float> jitter(0.0f, 0.0005f);
    std::uniform_int_distribution<int> fanout(0, 9);
    std::lognormal_distribution<float> pt(0.0f, 0.8f);
    std::bernoulli_distribution is_true(0.04);

    EventGraph g;
    g.event_id = event_id;
    g.section_id = section;
    g.n_nodes = n_nodes;
    g.n_features = 3;
    std::vector<int> layer_begin(kLayers + 1);
    for (int l = 0; l <= kLayers; ++l) layer_begin[l] = n_nodes * l / kLayers;
    for (int l = 0; l < kLayers; ++l) {
        std::vector<float> phi(layer_begin[l + 1] - layer_begin[l]);
        for (auto& p : phi) p = unit(rng);
        std::sort(phi.begin(), phi.end());
        for (float p : phi) {
            g.x.push_back(std::clamp(kRadii[l] + jitter(rng), 0.03f, 1.02f));
            g.x.push_back(p);
            g.x.push_back(unit(rng));
        }
    }
    for (int l = 0; l + 1 < kLayers; ++l) {
        const int out_begin = layer_begin[l + 1], out_size = layer_begin[l + 2] - out_begin;
        for (int a = layer_begin[l]; a < layer_begin[l + 1]; ++a) {
            const int centre = out_begin + (a - layer_begin[l]) * out_size /
                                               std::max(1, layer_begin[l + 1] - layer_begin[l]);
            for (int k = 0, n = fanout(rng); k < n; ++k) {
                g.senders.push_back(a);
                g.receivers.push_back(
                    std::clamp(centre - 4 + k, out_begin, out_begin + out_size - 1));
                g.y.push_back(static_cast<uint8_t>(is_true(rng)));
            }
        }
    }
    if (truth) {
        std::uniform_int_distribution<int64_t> particle(1, n_nodes / 8 + 1);
        for (int i = 0; i < n_nodes; ++i) {
            g.hit_id.push_back(100000 + 7 * i);
            g.particle_id.push_back(i % 9 == 0 ? 0 : (int64_t{1} << 52) + particle(rng) * 4096);
            g.pt.push_back(g.particle_id.back() == 0 ? 0.0f : 0.2f + pt(rng));
        }
    }
    return g;
}

template <typename T>
::testing::AssertionResult bits_equal(const std::vector<T>& a, const std::vector<T>& b,
                                      const char* column) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure()
               << column << ": " << a.size() << " values, expected " << b.size();
    if (!a.empty() && std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) != 0)
        return ::testing::AssertionFailure() << column << ": values differ";
    return ::testing::AssertionSuccess();
}

void expect_same_graph(const EventGraph& got, const EventGraph& want) {
    EXPECT_EQ(got.event_id, want.event_id);
    EXPECT_EQ(got.section_id, want.section_id);
    EXPECT_EQ(got.n_nodes, want.n_nodes);
    EXPECT_EQ(got.n_features, want.n_features);
    EXPECT_TRUE(bits_equal(got.x, want.x, "x"));
    EXPECT_TRUE(bits_equal(got.senders, want.senders, "senders"));
    EXPECT_TRUE(bits_equal(got.receivers, want.receivers, "receivers"));
    EXPECT_TRUE(bits_equal(got.y, want.y, "y"));
    EXPECT_TRUE(bits_equal(got.hit_id, want.hit_id, "hit_id"));
    EXPECT_TRUE(bits_equal(got.particle_id, want.particle_id, "particle_id"));
    EXPECT_TRUE(bits_equal(got.pt, want.pt, "pt"));
}

Store::Config with_codec(const std::string& codec) {
    Store::Config c;
    c.codec = codec;
    return c;
}

std::string error_of(const Store::Config& config) {
    try {
        Store store(config);
    } catch (const hepgnn::Error& e) {
        return e.what();
    }
    return "";
}

/// Ends the test binary with a message if the guarded scope outlives
/// `seconds`: a hang becomes a failure instead of a stuck test run.
class Watchdog {
public:
    Watchdog(double seconds, const char* what)
        : thread_([this, seconds, what] {
              std::unique_lock<std::mutex> lock(mutex_);
              if (!cv_.wait_for(lock, std::chrono::duration<double>(seconds),
                                [this] { return done_; })) {
                  std::fprintf(stderr, "watchdog: %s did not finish within %.0f s\n", what,
                               seconds);
                  std::abort();
              }
          }) {}
    ~Watchdog() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            done_ = true;
        }
        cv_.notify_all();
        thread_.join();
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool done_ = false;
    std::thread thread_;  // last: starts after the members it uses
};

constexpr double kHangSeconds = 60;  // generous: sanitizer builds on a busy 2-core machine

/// Overwrites the blosc header of the first chunk of graph `i`.
void corrupt(Store& store, int64_t i) {
    auto& bytes = CompressedGraphStoreTestPeer::buffer(store, i);
    ASSERT_GE(bytes.size(), 16u);
    std::fill(bytes.begin(), bytes.begin() + 16, uint8_t{0xA5});
}

}  // namespace

// ---- CompressedGraphStore -------------------------------------------------

class StoreCodec : public ::testing::TestWithParam<std::string> {};

TEST_P(StoreCodec, RoundTripsEveryColumnBitExact) {
    std::vector<EventGraph> graphs;
    graphs.push_back(realistic_graph(1000, 3, 3000, 1));
    graphs.push_back(realistic_graph(1000, 4, 2000, 2, /*truth=*/false));  // no truth columns
    graphs.push_back(random_graph(1001, 0, 50, 200, 3));
    EventGraph empty;  // no nodes, no edges
    empty.event_id = 1002;
    empty.section_id = 7;
    empty.n_features = 3;
    graphs.push_back(empty);
    EventGraph no_edges = realistic_graph(1003, 1, 40, 4);
    no_edges.senders.clear();
    no_edges.receivers.clear();
    no_edges.y.clear();
    graphs.push_back(no_edges);
    EventGraph odd_floats = random_graph(1004, 2, 20, 10, 5);  // bit patterns, not values
    odd_floats.x[0] = -0.0f;
    odd_floats.x[1] = std::numeric_limits<float>::quiet_NaN();
    odd_floats.x[2] = std::numeric_limits<float>::denorm_min();
    graphs.push_back(odd_floats);
    EventGraph wide = random_graph(1005, 0, 30, 40, 6);  // 5 features of 4 bytes: 20-byte rows
    wide.n_features = 5;
    wide.x.resize(30 * 5, 0.25f);
    graphs.push_back(wide);

    Store store(with_codec(GetParam()));
    for (size_t k = 0; k < graphs.size(); ++k)
        EXPECT_EQ(store.add(graphs[k]), static_cast<int64_t>(k));
    ASSERT_EQ(store.size(), static_cast<int64_t>(graphs.size()));
    for (size_t k = 0; k < graphs.size(); ++k) {
        SCOPED_TRACE("graph " + std::to_string(k));
        const auto i = static_cast<int64_t>(k);
        EXPECT_EQ(store.n_nodes(i), graphs[k].n_nodes);
        EXPECT_EQ(store.n_edges(i), graphs[k].n_edges());
        EXPECT_EQ(store.info(i).event_id, graphs[k].event_id);
        EXPECT_EQ(store.info(i).section_id, graphs[k].section_id);
        EXPECT_EQ(store.info(i).n_features, graphs[k].n_features);
        expect_same_graph(store.get(i), graphs[k]);
        expect_same_graph(store.get(i), graphs[k]);  // get() leaves the store intact
    }
}

TEST_P(StoreCodec, StatsAreConsistent) {
    Store store(with_codec(GetParam()));
    EXPECT_EQ(store.raw_bytes(), 0);
    EXPECT_EQ(store.compressed_bytes(), 0);
    EXPECT_DOUBLE_EQ(store.ratio(), 1.0);
    int64_t raw = 0, previous = 0;
    for (int k = 0; k < 4; ++k) {
        const auto g = realistic_graph(7, k, 1500 + 100 * k, 10 + k, k % 2 == 0);
        raw += g.nbytes();
        store.add(g);
        EXPECT_EQ(store.raw_bytes(), raw);
        EXPECT_GT(store.compressed_bytes(), previous);
        previous = store.compressed_bytes();
    }
    EXPECT_DOUBLE_EQ(store.ratio(), static_cast<double>(store.raw_bytes()) /
                                        static_cast<double>(store.compressed_bytes()));
    if (GetParam() == "none") {
        EXPECT_EQ(store.compressed_bytes(), store.raw_bytes());
    }
}

INSTANTIATE_TEST_SUITE_P(Codecs, StoreCodec, ::testing::Values("lz4", "zstd", "blosclz", "none"),
                         [](const auto& info) { return info.param; });

TEST(CompressedGraphStore, RoundTripsAtTheExtremeLevelsAndShuffles) {
    const auto g = realistic_graph(3, 1, 1200, 8);
    for (int level : {0, 1, 9})
        for (const char* shuffle : {"noshuffle", "shuffle", "bitshuffle"}) {
            SCOPED_TRACE(std::string(shuffle) + " level " + std::to_string(level));
            Store::Config c;
            c.level = level;
            c.feature_shuffle = c.index_shuffle = c.label_shuffle = c.truth_shuffle = shuffle;
            Store store(c);
            store.add(g);
            expect_same_graph(store.get(0), g);
        }
}

TEST(CompressedGraphStore, RealisticGraphsCompress) {
    std::vector<EventGraph> graphs;
    for (int k = 0; k < 6; ++k) graphs.push_back(realistic_graph(1, k, 5000, 20 + k, false));
    for (const char* codec : {"lz4", "zstd", "blosclz"}) {
        Store store(with_codec(codec));
        for (const auto& g : graphs) store.add(g);
        // Measured 3.1 (lz4), 4.2 (zstd), 3.3 (blosclz) with the default shuffles.
        EXPECT_GT(store.ratio(), 2.0) << codec;
    }
    // Byte shuffle of the index columns (the default) beats none on such graphs:
    // measured 3.1 against 2.1 with lz4.
    Store::Config plain;
    plain.index_shuffle = "noshuffle";
    Store defaults, unshuffled(plain);
    for (const auto& g : graphs) {
        defaults.add(g);
        unshuffled.add(g);
    }
    EXPECT_GT(defaults.ratio(), 1.2 * unshuffled.ratio());
}

TEST(CompressedGraphStore, BadConfigNamesTheKeyAndTheValidValues) {
    Store::Config c;
    c.codec = "gzip";
    auto msg = error_of(c);
    EXPECT_NE(msg.find("store.codec"), std::string::npos) << msg;
    EXPECT_NE(msg.find("gzip"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lz4, zstd, blosclz, none"), std::string::npos) << msg;

    for (int level : {-1, 10}) {
        c = Store::Config{};
        c.level = level;
        msg = error_of(c);
        EXPECT_NE(msg.find("store.level"), std::string::npos) << msg;
        EXPECT_NE(msg.find("0"), std::string::npos) << msg;
        EXPECT_NE(msg.find("9"), std::string::npos) << msg;
    }
    c = Store::Config{};
    c.index_shuffle = "bytes";
    msg = error_of(c);
    EXPECT_NE(msg.find("store.index_shuffle"), std::string::npos) << msg;
    EXPECT_NE(msg.find("noshuffle, shuffle, bitshuffle"), std::string::npos) << msg;
    c = Store::Config{};
    c.feature_shuffle = "";
    EXPECT_NE(error_of(c).find("store.feature_shuffle"), std::string::npos);
    c = Store::Config{};
    c.label_shuffle = "Shuffle";
    EXPECT_NE(error_of(c).find("store.label_shuffle"), std::string::npos);
    c = Store::Config{};
    c.truth_shuffle = "bit";
    EXPECT_NE(error_of(c).find("store.truth_shuffle"), std::string::npos);

    for (int level : {0, 9}) {
        c = Store::Config{};
        c.level = level;
        EXPECT_EQ(error_of(c), "");
    }
}

TEST(CompressedGraphStore, RejectsColumnsOfMismatchedLength) {
    Store store;
    auto g = realistic_graph(5, 0, 100, 1);
    g.x.pop_back();
    EXPECT_THROW(store.add(g), hepgnn::Error);
    g = realistic_graph(5, 0, 100, 1);
    g.y.push_back(0);
    EXPECT_THROW(store.add(g), hepgnn::Error);
    g = realistic_graph(5, 0, 100, 1);
    g.receivers.pop_back();
    EXPECT_THROW(store.add(g), hepgnn::Error);
    g = realistic_graph(5, 0, 100, 1);
    g.pt.resize(3);
    try {
        store.add(g);
        ADD_FAILURE() << "a 3-value pt column for 100 nodes was accepted";
    } catch (const hepgnn::Error& e) {
        EXPECT_NE(std::string(e.what()).find("pt"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("event 5"), std::string::npos) << e.what();
    }
    EXPECT_EQ(store.size(), 0);
    EXPECT_EQ(store.raw_bytes(), 0);
}

TEST(CompressedGraphStore, IndexOutsideTheStoreIsABug) {
    Store store;
    store.add(realistic_graph(1, 0, 50, 1));
    EXPECT_THROW(store.get(1), hepgnn::InternalError);
    EXPECT_THROW(store.get(-1), hepgnn::InternalError);
    EXPECT_THROW(store.n_edges(2), hepgnn::InternalError);
}

TEST(CompressedGraphStore, CorruptBufferThrowsAndNamesTheGraph) {
    for (const char* codec : {"lz4", "zstd", "blosclz"}) {
        Store store(with_codec(codec));
        store.add(realistic_graph(11, 0, 500, 1));
        store.add(realistic_graph(12, 5, 500, 2));
        corrupt(store, 1);
        EXPECT_NO_THROW(store.get(0)) << codec;
        try {
            store.get(1);
            ADD_FAILURE() << codec << ": a corrupt buffer decompressed";
        } catch (const hepgnn::Error& e) {
            EXPECT_NE(std::string(e.what()).find("graph 1 (event 12, section 5)"),
                      std::string::npos)
                << e.what();
            EXPECT_NE(std::string(e.what()).find("corrupt"), std::string::npos) << e.what();
        }
    }
    // Truncated chunks are caught too (the stored sizes no longer add up).
    Store store;
    store.add(realistic_graph(13, 0, 500, 3));
    CompressedGraphStoreTestPeer::buffer(store, 0).resize(40);
    EXPECT_THROW(store.get(0), hepgnn::Error);
}

TEST(CompressedGraphStore, ConcurrentGetFromTwoThreadsIsSafe) {
    Store store(with_codec("zstd"));
    std::vector<EventGraph> graphs;
    for (int k = 0; k < 8; ++k) {
        graphs.push_back(realistic_graph(20, k, 800 + 50 * k, 30 + k));
        store.add(graphs.back());
    }
    std::vector<int> mismatches(2, 0);
    auto reader = [&](int t) {
        for (int round = 0; round < 10; ++round)
            for (int64_t i = 0; i < store.size(); ++i) {
                const int64_t k = (t == 0) ? i : store.size() - 1 - i;  // opposite orders
                const EventGraph g = store.get(k);
                if (g.x != graphs[k].x || g.senders != graphs[k].senders ||
                    g.receivers != graphs[k].receivers || g.y != graphs[k].y ||
                    g.particle_id != graphs[k].particle_id)
                    ++mismatches[t];
            }
    };
    std::thread a(reader, 0), b(reader, 1);
    a.join();
    b.join();
    EXPECT_EQ(mismatches[0], 0);
    EXPECT_EQ(mismatches[1], 0);
}

// ---- Prefetcher ------------------------------------------------------------

namespace {

Store make_store(int n, int nodes = 600) {
    Store store;
    for (int k = 0; k < n; ++k) store.add(realistic_graph(100 + k, k % 8, nodes + 10 * k, k));
    return store;
}

void expect_step(const std::vector<EventGraph>& got, const std::vector<int64_t>& ids,
                 const Store& store) {
    ASSERT_EQ(got.size(), ids.size());
    for (size_t k = 0; k < ids.size(); ++k) {
        EXPECT_EQ(got[k].event_id, store.info(ids[k]).event_id);
        EXPECT_EQ(got[k].n_edges(), store.n_edges(ids[k]));
        expect_same_graph(got[k], store.get(ids[k]));
    }
}

}  // namespace

TEST(Prefetcher, ReturnsTheScheduledStepsInOrderAcrossTwoEpochs) {
    Watchdog watchdog(kHangSeconds, "ReturnsTheScheduledStepsInOrderAcrossTwoEpochs");
    const Store store = make_store(10);
    const std::vector<std::vector<int64_t>> epoch0 = {{3, 1}, {0}, {9, 8, 7}, {}, {2, 4, 5, 6}};
    const std::vector<std::vector<int64_t>> epoch1 = {{6, 5}, {4, 3, 2}, {1, 0, 9, 8, 7}};
    Prefetcher prefetch(store);
    for (const auto* plan : {&epoch0, &epoch1}) {
        prefetch.schedule(*plan);
        EXPECT_EQ(prefetch.remaining(), static_cast<int64_t>(plan->size()));
        for (size_t k = 0; k < plan->size(); ++k) {
            SCOPED_TRACE("step " + std::to_string(k));
            expect_step(prefetch.next(), (*plan)[k], store);
        }
        EXPECT_EQ(prefetch.remaining(), 0);
    }
    EXPECT_GT(prefetch.decompress_seconds(), 0.0);
}

TEST(Prefetcher, DecompressesAheadButAtMostDepthSteps) {
    Watchdog watchdog(kHangSeconds, "DecompressesAheadButAtMostDepthSteps");
    const Store store = make_store(6);
    const auto buffered_after = [](const Prefetcher& p, int64_t want) {
        // Wait (up to 20 s) for `want` steps, then give an over-eager thread time to overshoot.
        for (int k = 0; k < 2000 && p.buffered_steps() < want; ++k)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return p.buffered_steps();
    };
    {
        Prefetcher prefetch(store);  // depth 1: double buffering
        prefetch.schedule({{0}, {1}, {2}, {3}, {4}, {5}});
        EXPECT_EQ(buffered_after(prefetch, 1), 1);  // step 0 ready before anyone asked
        prefetch.next();
        EXPECT_EQ(buffered_after(prefetch, 1), 1);  // step 1 ready while "step 0 computes"
        const double waited = prefetch.wait_seconds();
        expect_step(prefetch.next(), {1}, store);
        EXPECT_LT(prefetch.wait_seconds() - waited, 0.5);  // it was ready: no real wait
    }
    {
        Prefetcher prefetch(store, Prefetcher::Config{3});
        prefetch.schedule({{0}, {1}, {2}, {3}, {4}, {5}});
        EXPECT_EQ(buffered_after(prefetch, 3), 3);
        for (int64_t k = 0; k < 6; ++k) expect_step(prefetch.next(), {k}, store);
        EXPECT_EQ(prefetch.buffered_steps(), 0);
    }
}

TEST(Prefetcher, CorruptBufferIsRethrownFromNextInsteadOfHanging) {
    Watchdog watchdog(kHangSeconds, "CorruptBufferIsRethrownFromNextInsteadOfHanging");
    Store store = make_store(5);
    corrupt(store, 3);
    Prefetcher prefetch(store);
    prefetch.schedule({{0, 1}, {2}, {4, 3}, {0}});
    expect_step(prefetch.next(), {0, 1}, store);
    expect_step(prefetch.next(), {2}, store);
    EXPECT_THROW(prefetch.next(), hepgnn::Error);
    EXPECT_THROW(prefetch.next(), hepgnn::Error);  // again, not a hang or a skipped step
    EXPECT_EQ(prefetch.remaining(), 2);
    // A new plan without the broken graph works.
    prefetch.schedule({{4}, {0, 2}});
    expect_step(prefetch.next(), {4}, store);
    expect_step(prefetch.next(), {0, 2}, store);
}

TEST(Prefetcher, DestructionMidEpochDoesNotHang) {
    Watchdog watchdog(kHangSeconds, "DestructionMidEpochDoesNotHang");
    const Store store = make_store(4, 4000);
    std::vector<std::vector<int64_t>> plan(200, std::vector<int64_t>{0, 1, 2, 3});
    {
        Prefetcher idle(store);  // never scheduled
    }
    {
        Prefetcher unread(store);  // scheduled, never read
        unread.schedule(plan);
    }
    for (int taken : {1, 3}) {
        Prefetcher prefetch(store);
        prefetch.schedule(plan);
        for (int k = 0; k < taken; ++k) prefetch.next();
        // Destroyed here, with the thread decompressing or waiting for room.
    }
}

TEST(Prefetcher, RescheduleDropsTheRestOfThePreviousPlan) {
    Watchdog watchdog(kHangSeconds, "RescheduleDropsTheRestOfThePreviousPlan");
    const Store store = make_store(6);
    Prefetcher prefetch(store);
    prefetch.schedule({{0}, {1}, {2}, {3}});
    expect_step(prefetch.next(), {0}, store);
    prefetch.schedule({{5, 4}, {3}});
    expect_step(prefetch.next(), {5, 4}, store);
    expect_step(prefetch.next(), {3}, store);
    EXPECT_EQ(prefetch.remaining(), 0);
}

TEST(Prefetcher, MisuseIsABug) {
    Watchdog watchdog(kHangSeconds, "MisuseIsABug");
    const Store store = make_store(2);
    Prefetcher prefetch(store);
    EXPECT_THROW(prefetch.next(), hepgnn::InternalError);  // nothing scheduled
    EXPECT_THROW(prefetch.schedule({{0}, {2}}), hepgnn::InternalError);
    EXPECT_THROW(prefetch.schedule({{-1}}), hepgnn::InternalError);
    prefetch.schedule({{1}});
    prefetch.next();
    EXPECT_THROW(prefetch.next(), hepgnn::InternalError);  // past the end
    EXPECT_THROW(Prefetcher(store, Prefetcher::Config{0}), hepgnn::InternalError);
}
