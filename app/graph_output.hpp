// The graph file of a command that builds graphs on one or many MPI ranks (prepare, and
// infer --save-graphs): one file at `out` either way. On one rank graphs stream into a
// GraphFileWriter; on N ranks each rank spills its own and commit() writes them all into the
// file in place (Note [Parallel graph file] in data/parallel_graph_file.hpp). The file holds
// the ranks' graphs in rank order, so ranks should take contiguous blocks of the events
// (event_block) for the file to equal a 1-rank run's.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>

#include "comm/communicator.hpp"
#include "data/event_graph.hpp"
#include "data/feature_info.hpp"

namespace hepgnn::app {

/// This rank's contiguous block [begin, end) of `n` items: rank r of `size` gets the r-th of
/// `size` nearly equal blocks, so the blocks in rank order are the items in order.
std::pair<size_t, size_t> event_block(size_t n, int rank, int size);

class GraphOutput {
public:
    /// Collective. `spill_dir`: where N ranks keep their graphs until commit (empty: the
    /// output's folder). Throws CollectiveError on every rank if any rank cannot start.
    GraphOutput(comm::Communicator& comm, std::filesystem::path out, data::FeatureInfo features,
                const std::string& spill_dir = {});
    ~GraphOutput();  // without commit: nothing appears at `out`, nothing is left behind
    GraphOutput(const GraphOutput&) = delete;
    GraphOutput& operator=(const GraphOutput&) = delete;

    /// This rank's next graph (local, no communication). Throws hepgnn::Error.
    void append(const data::EventGraph& graph);
    /// Collective: the file appears at `out` with every rank's graphs, or every rank throws
    /// CollectiveError and no file (nor spill) is left.
    void commit();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace hepgnn::app
