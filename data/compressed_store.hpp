// One rank's event graphs, blosc-compressed in memory (DESIGN §1): a rank
// keeps its whole share resident and decompresses a step's graphs just before
// the step (data/prefetcher.hpp hides that time behind the previous step).
//
// Each column of a graph is one blosc chunk with its own type size and
// shuffle filter (Note [Shuffle defaults] in compressed_store.cpp has the
// measurements behind the defaults); the small per-graph metadata stays
// uncompressed, so sizes are known without decompressing.
//
// Threads: fill the store, then read it. add() needs exclusive access; the
// const members (get() included) are safe to call from many threads at once.
// Only blosc's context API is used (no blosc_init, no global state), so two
// stores never interfere.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/event_graph.hpp"

namespace hepgnn::data {

class CompressedGraphStore {
public:
    struct Config {
        /// Compressor: "lz4" (ratio ~2.7 on training columns, decompresses at
        /// ~2.4 GB/s on one core), "zstd" (~4.2, ~1.3 GB/s; compresses at only
        /// ~75 MB/s at level 5 and ~4 MB/s at level 9), "blosclz" (~2.6,
        /// ~1.2 GB/s) or "none" (plain copies, no blosc). Config key `store.codec`.
        std::string codec = "lz4";
        /// Compression level 0-9; 0 stores blocks uncompressed inside blosc
        /// chunks. Ignored by codec "none". Config key `store.level`.
        int level = 5;
        /// Shuffle filter per column type: "noshuffle", "shuffle" (bytes) or
        /// "bitshuffle" (bits); Note [Shuffle defaults] has the measurements.
        /// Config keys `store.feature_shuffle`, `store.index_shuffle`, ...
        std::string feature_shuffle = "shuffle";   // x, one node's row as the blosc item
        std::string index_shuffle = "shuffle";     // senders, receivers (int32)
        std::string label_shuffle = "bitshuffle";  // y (uint8, 0/1)
        std::string truth_shuffle = "shuffle";     // hit_id, particle_id (int64), pt (float32)

        /// Throws hepgnn::Error naming the key and its valid values.
        void validate() const;
    };

    /// What is known about a stored graph without decompressing it.
    struct GraphInfo {
        int64_t event_id = 0;
        int32_t section_id = 0;
        int32_t n_features = 0;
        int64_t n_nodes = 0;
        int64_t n_edges = 0;
    };

    /// An empty store with the default Config.
    CompressedGraphStore();
    /// Validates `config` (throws hepgnn::Error).
    explicit CompressedGraphStore(Config config);

    /// Compresses `graph` and returns its index (0, 1, 2, ...). Throws
    /// hepgnn::Error when the columns' lengths do not match n_nodes,
    /// n_features and n_edges. Truth columns may be empty.
    int64_t add(const EventGraph& graph);
    /// Decompresses graph `i`. Throws hepgnn::Error if its buffer is corrupt.
    EventGraph get(int64_t i) const;

    int64_t size() const { return static_cast<int64_t>(entries_.size()); }
    const GraphInfo& info(int64_t i) const;
    int64_t n_nodes(int64_t i) const { return info(i).n_nodes; }
    int64_t n_edges(int64_t i) const { return info(i).n_edges; }

    /// Sum of EventGraph::nbytes() over the stored graphs.
    int64_t raw_bytes() const { return raw_bytes_; }
    /// Bytes of the compressed column chunks (blosc headers included; the
    /// fixed-size metadata per graph, under 200 bytes, is not counted).
    int64_t compressed_bytes() const { return compressed_bytes_; }
    /// raw_bytes() / compressed_bytes(); 1 for an empty store.
    double ratio() const;

    const Config& config() const { return cfg_; }

    static constexpr int kColumns = 7;  // x, senders, receivers, y, hit_id, particle_id, pt

private:
    friend struct CompressedGraphStoreTestPeer;  // tests corrupt buffers through it

    struct Entry {
        GraphInfo info;
        std::array<int64_t, kColumns> raw_bytes{};  // uncompressed bytes per column
        std::array<int64_t, kColumns> chunk_end{};  // end of each column's chunk in `data`
        std::vector<uint8_t> data;                  // the column chunks, back to back
    };

    Config cfg_;
    std::array<int, kColumns> shuffle_{};  // blosc shuffle mode per column
    std::vector<Entry> entries_;
    std::vector<uint8_t> scratch_;  // add()'s compression buffer, reused
    int64_t raw_bytes_ = 0;
    int64_t compressed_bytes_ = 0;
};

}  // namespace hepgnn::data
