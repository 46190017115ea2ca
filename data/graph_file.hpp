// The event-graph file (HDF5, schema version 1, DESIGN §3.2): many graphs as
// flat concatenated datasets plus offsets, so a rank reads exactly its graphs
// with hyperslab reads.
//
// GraphFileWriter streams graphs into a temporary file and renames it into
// place on commit(), so a crash never leaves a half-written file under the
// final name. GraphFile validates everything it reads and names the file,
// dataset and graph in every error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "data/event_graph.hpp"

namespace hepgnn::data {

inline constexpr const char* kGraphFileFormat = "hepgnn-graphs";
inline constexpr int kGraphFileVersion = 1;

/// Where each graph of a file lies and what it is: prefix sums of the graphs' node and edge
/// counts ([G + 1], starting at 0), and their event and section ids ([G]).
struct GraphIndex {
    std::vector<int64_t> node_offsets{0}, edge_offsets{0}, event_ids;
    std::vector<int32_t> section_ids;

    void add(int64_t n_nodes, int64_t n_edges, int64_t event_id, int32_t section_id);
    int64_t num_graphs() const { return static_cast<int64_t>(event_ids.size()); }
    int64_t num_nodes() const { return node_offsets.back(); }
    int64_t num_edges() const { return edge_offsets.back(); }
};

class GraphFileWriter {
public:
    /// Opens `<path>.tmp.<pid>` for writing; nothing appears at `path` before commit().
    GraphFileWriter(std::filesystem::path path, FeatureInfo features);
    ~GraphFileWriter();  // discards the temporary file unless committed
    GraphFileWriter(const GraphFileWriter&) = delete;
    GraphFileWriter& operator=(const GraphFileWriter&) = delete;

    /// Appends one graph; it must carry truth columns (hit_id, particle_id, pt).
    void append(const EventGraph& graph);
    /// Writes offsets and attributes, flushes, and renames into place.
    void commit();

    int64_t num_graphs() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class GraphFile {
public:
    struct ReadOptions {
        bool truth = true;  // read hit_id, particle_id and pt (training needs none of them)
    };

    /// Opens and validates the schema, shapes and offsets. Throws hepgnn::Error.
    static GraphFile open(const std::filesystem::path& path);

    GraphFile(GraphFile&&) noexcept;
    GraphFile& operator=(GraphFile&&) noexcept;
    ~GraphFile();

    const std::filesystem::path& path() const;
    int64_t num_graphs() const;
    int32_t n_features() const;
    const FeatureInfo& features() const;
    const std::vector<int64_t>& node_offsets() const;
    const std::vector<int64_t>& edge_offsets() const;
    const std::vector<int64_t>& event_ids() const;
    const std::vector<int32_t>& section_ids() const;
    int64_t num_nodes(int64_t graph) const;
    int64_t num_edges(int64_t graph) const;

    /// Reads and validates one graph (indices inside the graph, finite features,
    /// labels 0/1).
    EventGraph read_graph(int64_t graph, const ReadOptions& options) const;
    EventGraph read_graph(int64_t graph) const { return read_graph(graph, ReadOptions{}); }
    std::vector<EventGraph> read_graphs(const std::vector<int64_t>& graphs,
                                        const ReadOptions& options) const;

private:
    struct Impl;
    explicit GraphFile(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

}  // namespace hepgnn::data
