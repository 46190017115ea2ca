// One graph file written by many processes at once, with serial HDF5 and no merge: the data
// side of `hepgnn prepare` on N ranks (app/commands/prepare.cpp does the collectives).
//
// Note [Parallel graph file]
// ~~~~~~~~~~~~~~~~~~~~~~~~~~
// Each rank builds a contiguous block of the events and spills its graphs' columns, as the
// raw bytes the file stores (little-endian, the file's element types), to rank-local files
// (GraphColumnSpill). The ranks then share their graphs' index (GraphIndex: a few numbers a
// graph), and rank 0 creates the output with every column as a contiguous dataset allocated
// at its final size and never filled, writes the index and attributes, and closes it; HDF5
// reports where each column's bytes start (GraphFileLayout). Every rank then copies its spilled
// bytes into its own range of each column with pwrite: the ranges are disjoint and HDF5's
// metadata is not touched, so no locking is needed and nothing is read twice. Once every rank
// has synced, rank 0 renames the file into place. The datasets equal a 1-rank prepare's
// element by element; only their storage layout (contiguous, not chunked) differs.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "data/graph_file.hpp"

namespace hepgnn::data {

/// The per-element columns of a graph file: x [N, F], hit_id, particle_id, pt, volume_id,
/// layer_id per node; senders, receivers, y per edge.
inline constexpr int kGraphColumns = 9;

/// Where each column's data starts in a file made by create_graph_file_layout.
struct GraphFileLayout {
    std::filesystem::path tmp_path;  // the file before publish_graph_file renames it
    int32_t n_features = 0;
    int64_t n_nodes = 0, n_edges = 0;
    // Byte offset of each column's first element in the file, in the order of kGraphColumns
    // (x, hit_id, particle_id, pt, volume_id, layer_id, senders, receivers, y); -1 for an
    // empty column (Note [Parallel graph file]).
    std::array<int64_t, kGraphColumns> column_offsets{};
};

/// Creates `<path>.tmp.<pid>` holding `index` and `features` with its column datasets
/// allocated for index's totals (contents undefined until every block is written). Throws
/// hepgnn::Error naming the file, and leaves no file behind on failure.
GraphFileLayout create_graph_file_layout(const std::filesystem::path& path, const GraphIndex& index,
                                         const FeatureInfo& features);

/// Renames the finished file into place (or throws, removing it).
void publish_graph_file(const GraphFileLayout& layout, const std::filesystem::path& path);

/// A process's graphs, their columns appended as raw bytes to files `<stem>.<column>`, in the
/// order of append; the files go with the object.
class GraphColumnSpill {
public:
    GraphColumnSpill(std::filesystem::path stem, int32_t n_features);
    ~GraphColumnSpill();
    GraphColumnSpill(const GraphColumnSpill&) = delete;
    GraphColumnSpill& operator=(const GraphColumnSpill&) = delete;

    /// Appends one graph; it must carry truth columns. Throws hepgnn::Error (disk full).
    void append(const EventGraph& graph);
    /// The graphs appended so far, with local offsets (starting at 0).
    const GraphIndex& index() const;
    /// Copies every column into the file of `layout` from node `first_node` and edge
    /// `first_edge` on (this process's place in the whole file), then syncs the file.
    /// Throws hepgnn::Error (disk full, or a layout that cannot hold these graphs).
    void write_into(const GraphFileLayout& layout, int64_t first_node, int64_t first_edge);

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hepgnn::data
