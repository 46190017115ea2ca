#include "data/compressed_store.hpp"

#include <blosc.h>

#include <climits>
#include <cstring>
#include <type_traits>

#include "core/error.hpp"

namespace hepgnn::data {

// Note [Shuffle defaults]
// Each column is its own blosc chunk, so each gets the filter that suits it.
// Ratios (raw / compressed) per column type, summed over the 32 graphs of
// `hepgnn simulate --events 4 --particles 10000` + `prepare` (eta [-2, 2],
// 8 phi sections: ~7k nodes and ~50k edges per graph), blosc 1.21.3, level 5,
// as noshuffle / shuffle / bitshuffle:
//
//   column                       lz4               zstd               blosclz
//   x, item = one float          1.14 1.10 1.14    1.49 1.25 1.46     1.00 1.12 1.01
//   x, item = one node's row     1.10 1.29 1.11    1.49 1.55 1.47     1.00 1.34 1.01
//   senders + receivers          3.29 3.27 3.24    7.40 5.65 6.55     3.62 2.92 3.51
//     same, nodes by layer, phi  3.49 6.17 3.66    8.82 10.7 8.61     3.92 5.41 4.08
//   y                            6.98 6.98 7.42    20.4 20.4 21.1     7.81 7.81 8.17
//   hit_id + particle_id         2.40 4.66 2.48    5.39 6.30 5.41     2.69 4.59 2.77
//   pt                           1.31 1.44 1.31    3.85 2.50 3.64     1.89 1.35 1.83
//
// Hence:
//  * x: the blosc item is one node's row (n_features floats), byte-shuffled,
//    so byte k of r, of phi and of z each form their own stream (r takes few
//    values: the layer radii). Best for every codec.
//  * senders/receivers: byte shuffle. With today's node order (by particle)
//    the filters tie for lz4 (1%), and noshuffle is better for zstd and
//    blosclz; with nodes ordered by layer and phi, as in HEP.TrkX (senders
//    ascending, receivers nearby), byte shuffle wins by 1.2-1.8x for every
//    codec. Whole store, lz4, shuffle vs noshuffle: 2.74 vs 2.75 today (training
//    columns), 3.78 vs 2.96 with nodes by layer and phi (all columns).
//  * y: bitshuffle (typesize 1: byte shuffle does nothing; bit planes 1-7 are
//    all zero).
//  * truth: byte shuffle, best for the int64 ids and, with lz4, for pt.
// Decompression speed does not separate the filters (within the noise of a
// few percent); the codec does (lz4 ~2.4 GB/s, zstd ~1.3 GB/s, blosclz
// ~1.2 GB/s on one thread here).

// Note [One blosc thread per call]
// Every blosc call runs on the calling thread (numinternalthreads = 1): the
// parallelism comes from the prefetch thread decompressing the next step while
// the trainer computes the current one, and blosc's context API would start and
// join a fresh thread pool on every call if asked for more.

namespace {

constexpr int kBloscThreads = 1;  // Note [One blosc thread per call]

enum Column { kX, kSenders, kReceivers, kY, kHitId, kParticleId, kPt };
constexpr std::array<const char*, CompressedGraphStore::kColumns> kColumnNames = {
    "x", "senders", "receivers", "y", "hit_id", "particle_id", "pt"};

/// Calls f(column, vector) for every column of `g` (const or not), in the
/// order of `Column`.
template <class Graph, class F>
void for_each_column(Graph& g, F&& f) {
    f(kX, g.x);
    f(kSenders, g.senders);
    f(kReceivers, g.receivers);
    f(kY, g.y);
    f(kHitId, g.hit_id);
    f(kParticleId, g.particle_id);
    f(kPt, g.pt);
}

int parse_shuffle(const std::string& value, const char* key) {
    if (value == "noshuffle") return BLOSC_NOSHUFFLE;
    if (value == "shuffle") return BLOSC_SHUFFLE;
    if (value == "bitshuffle") return BLOSC_BITSHUFFLE;
    HEPGNN_FAIL("{}: '{}' is not a shuffle mode; use one of noshuffle, shuffle, bitshuffle", key,
                value);
}

bool is_blosc_codec(const std::string& codec) {
    return codec != "none";
}

}  // namespace

void CompressedGraphStore::Config::validate() const {
    HEPGNN_CHECK(codec == "lz4" || codec == "zstd" || codec == "blosclz" || codec == "none",
                 "store.codec: '{}' is not a codec; use one of lz4, zstd, blosclz, none", codec);
    HEPGNN_CHECK(!is_blosc_codec(codec) || blosc_compname_to_compcode(codec.c_str()) >= 0,
                 "store.codec: '{}' is not built into this blosc library ({}, has {}); choose "
                 "another codec",
                 codec, BLOSC_VERSION_STRING, blosc_list_compressors());
    HEPGNN_CHECK(level >= 0 && level <= 9,
                 "store.level: {} is out of range; use an integer from 0 (no compression) to 9 "
                 "(most compression)",
                 level);
    parse_shuffle(feature_shuffle, "store.feature_shuffle");
    parse_shuffle(index_shuffle, "store.index_shuffle");
    parse_shuffle(label_shuffle, "store.label_shuffle");
    parse_shuffle(truth_shuffle, "store.truth_shuffle");
}

CompressedGraphStore::CompressedGraphStore() : CompressedGraphStore(Config{}) {}

CompressedGraphStore::CompressedGraphStore(Config config) : cfg_(std::move(config)) {
    cfg_.validate();
    shuffle_[kX] = parse_shuffle(cfg_.feature_shuffle, "store.feature_shuffle");
    shuffle_[kSenders] = shuffle_[kReceivers] =
        parse_shuffle(cfg_.index_shuffle, "store.index_shuffle");
    shuffle_[kY] = parse_shuffle(cfg_.label_shuffle, "store.label_shuffle");
    shuffle_[kHitId] = shuffle_[kParticleId] = shuffle_[kPt] =
        parse_shuffle(cfg_.truth_shuffle, "store.truth_shuffle");
}

int64_t CompressedGraphStore::add(const EventGraph& g) {
    const auto where = [&] {
        return fmt::format("cannot store graph (event {}, section {})", g.event_id, g.section_id);
    };
    HEPGNN_CHECK(g.n_nodes >= 0 && g.n_features >= 0,
                 "{}: n_nodes = {} and n_features = {} must not be negative", where(), g.n_nodes,
                 g.n_features);
    const int64_t n_edges = g.n_edges();
    HEPGNN_CHECK(static_cast<int64_t>(g.x.size()) == g.n_nodes * g.n_features,
                 "{}: x has {} values but n_nodes * n_features = {} * {}", where(), g.x.size(),
                 g.n_nodes, g.n_features);
    HEPGNN_CHECK(static_cast<int64_t>(g.receivers.size()) == n_edges &&
                     static_cast<int64_t>(g.y.size()) == n_edges,
                 "{}: {} senders, {} receivers and {} labels y; they must have the same length",
                 where(), n_edges, g.receivers.size(), g.y.size());
    for_each_column(g, [&](int c, const auto& v) {
        if (c == kHitId || c == kParticleId || c == kPt)
            HEPGNN_CHECK(v.empty() || static_cast<int64_t>(v.size()) == g.n_nodes,
                         "{}: truth column {} has {} values for {} nodes; it must be empty or "
                         "have one value per node",
                         where(), kColumnNames[c], v.size(), g.n_nodes);
    });

    // The blosc item of x is one node's row (Note [Shuffle defaults]).
    const auto item_bytes = [&](int c, size_t value_bytes) {
        const size_t row = static_cast<size_t>(g.n_features) * value_bytes;
        return c == kX && row >= 1 && row <= BLOSC_MAX_TYPESIZE ? row : value_bytes;
    };
    Entry e;
    e.info = GraphInfo{g.event_id, g.section_id, g.n_features, g.n_nodes, n_edges};
    size_t bound = 0;
    for_each_column(g, [&](int c, const auto& v) {
        const size_t bytes = v.size() * sizeof(v[0]);
        HEPGNN_CHECK(bytes <= static_cast<size_t>(BLOSC_MAX_BUFFERSIZE),
                     "{}: column {} has {} bytes, more than a blosc chunk holds ({}); split the "
                     "events into more sections (n_phi_sections, n_eta_sections)",
                     where(), kColumnNames[c], bytes, BLOSC_MAX_BUFFERSIZE);
        e.raw_bytes[c] = static_cast<int64_t>(bytes);
        bound += bytes + BLOSC_MAX_OVERHEAD;
    });
    if (scratch_.size() < bound) scratch_.resize(bound);

    size_t pos = 0;
    const bool blosc = is_blosc_codec(cfg_.codec);
    for_each_column(g, [&](int c, const auto& v) {
        const size_t bytes = v.size() * sizeof(v[0]);
        if (bytes > 0 && !blosc) {
            std::memcpy(scratch_.data() + pos, v.data(), bytes);
            pos += bytes;
        } else if (bytes > 0) {
            // Never fails for destsize >= bytes + BLOSC_MAX_OVERHEAD (blosc.h).
            const int n = blosc_compress_ctx(cfg_.level, shuffle_[c], item_bytes(c, sizeof(v[0])),
                                             bytes, v.data(), scratch_.data() + pos,
                                             bytes + BLOSC_MAX_OVERHEAD, cfg_.codec.c_str(),
                                             /*blocksize=*/0, kBloscThreads);
            HEPGNN_INTERNAL_CHECK(n > 0, "blosc_compress_ctx returned {} for column {} ({} bytes)",
                                  n, kColumnNames[c], bytes);
            pos += static_cast<size_t>(n);
        }
        e.chunk_end[c] = static_cast<int64_t>(pos);
    });
    e.data.assign(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(pos));

    raw_bytes_ += g.nbytes();
    compressed_bytes_ += static_cast<int64_t>(pos);
    entries_.push_back(std::move(e));
    return size() - 1;
}

const CompressedGraphStore::GraphInfo& CompressedGraphStore::info(int64_t i) const {
    HEPGNN_INTERNAL_CHECK(i >= 0 && i < size(), "graph {} requested from a store of {} graphs", i,
                          size());
    return entries_[static_cast<size_t>(i)].info;
}

EventGraph CompressedGraphStore::get(int64_t i) const {
    const GraphInfo& meta = info(i);
    const Entry& e = entries_[static_cast<size_t>(i)];
    EventGraph g;
    g.event_id = meta.event_id;
    g.section_id = meta.section_id;
    g.n_nodes = meta.n_nodes;
    g.n_features = meta.n_features;

    const bool blosc = is_blosc_codec(cfg_.codec);
    int64_t begin = 0;
    for_each_column(g, [&](int c, auto& v) {
        using T = typename std::decay_t<decltype(v)>::value_type;
        const int64_t raw = e.raw_bytes[c];
        const int64_t end = e.chunk_end[c];
        const uint8_t* src = e.data.data() + begin;
        const size_t cbytes = static_cast<size_t>(end - begin);
        const auto corrupt = [&](const std::string& why) {
            HEPGNN_FAIL(
                "compressed graph store: graph {} (event {}, section {}), column {}: {}; the "
                "in-memory copy is corrupt (a bug or a memory fault): rerun, and report it if it "
                "repeats",
                i, meta.event_id, meta.section_id, kColumnNames[c], why);
        };
        if (end < begin || end > static_cast<int64_t>(e.data.size()))
            corrupt(fmt::format("its chunk [{}, {}) lies outside the {} stored bytes", begin, end,
                                e.data.size()));
        begin = end;
        if (raw == 0) {
            if (cbytes != 0) corrupt(fmt::format("{} bytes stored for an empty column", cbytes));
            return;
        }
        v.resize(static_cast<size_t>(raw) / sizeof(T));
        if (!blosc) {
            if (cbytes != static_cast<size_t>(raw))
                corrupt(fmt::format("{} bytes stored, {} expected", cbytes, raw));
            std::memcpy(v.data(), src, cbytes);
            return;
        }
        size_t nbytes = 0;
        if (blosc_cbuffer_validate(src, cbytes, &nbytes) != 0)
            corrupt(fmt::format("not a valid blosc chunk of {} bytes", cbytes));
        if (nbytes != static_cast<size_t>(raw))
            corrupt(fmt::format("the blosc header says {} bytes, {} expected", nbytes, raw));
        const int n = blosc_decompress_ctx(src, v.data(), static_cast<size_t>(raw), kBloscThreads);
        if (n != raw) corrupt(fmt::format("blosc_decompress_ctx returned {}", n));
    });
    return g;
}

double CompressedGraphStore::ratio() const {
    return compressed_bytes_ == 0
               ? 1.0
               : static_cast<double>(raw_bytes_) / static_cast<double>(compressed_bytes_);
}

}  // namespace hepgnn::data
