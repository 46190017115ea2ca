#include "app/graph_output.hpp"

#include <optional>
#include <vector>

#include "core/error.hpp"
#include "data/graph_file.hpp"
#include "data/parallel_graph_file.hpp"

namespace hepgnn::app {
namespace {

namespace fs = std::filesystem;

/// The whole file's index on every rank, from each rank's own: the ranks' graphs in rank order.
/// `first`: where this rank's graphs start in it.
data::GraphIndex gather_index(comm::Communicator& comm, const data::GraphIndex& mine,
                              int64_t& first) {
    const auto counts = comm.allgather_value<int64_t>(mine.num_graphs());
    int64_t total = 0;
    for (int r = 0; r < comm.size(); ++r) {
        if (r == comm.rank()) first = total;
        total += counts[static_cast<size_t>(r)];
    }
    // Each rank fills its slice of zeroed columns, and a sum gives every rank all of them.
    const auto n = static_cast<size_t>(total);
    std::vector<int64_t> columns(4 * n, 0);
    for (int64_t g = 0; g < mine.num_graphs(); ++g) {
        const auto at = static_cast<size_t>(first + g), k = static_cast<size_t>(g);
        columns[at] = mine.node_offsets[k + 1] - mine.node_offsets[k];
        columns[n + at] = mine.edge_offsets[k + 1] - mine.edge_offsets[k];
        columns[2 * n + at] = mine.event_ids[k];
        columns[3 * n + at] = mine.section_ids[k];
    }
    comm.allreduce(columns.data(), columns.size());
    data::GraphIndex all;
    for (size_t g = 0; g < n; ++g)
        all.add(columns[g], columns[n + g], columns[2 * n + g],
                static_cast<int32_t>(columns[3 * n + g]));
    return all;
}

}  // namespace

std::pair<size_t, size_t> event_block(size_t n, int rank, int size) {
    const auto at = [&](int r) { return n * static_cast<size_t>(r) / static_cast<size_t>(size); };
    return {at(rank), at(rank + 1)};
}

struct GraphOutput::Impl {
    comm::Communicator& comm;
    fs::path out;
    data::FeatureInfo features;
    std::optional<data::GraphFileWriter> writer;    // 1 rank
    std::unique_ptr<data::GraphColumnSpill> spill;  // N ranks
};

GraphOutput::GraphOutput(comm::Communicator& comm, fs::path out, data::FeatureInfo features,
                         const std::string& spill_dir)
    : impl_(new Impl{comm, std::move(out), std::move(features), std::nullopt, nullptr}) {
    comm.collectively([&] {
        if (comm.size() == 1) {
            impl_->writer.emplace(impl_->out, impl_->features);
            return;
        }
        const fs::path dir = spill_dir.empty() ? impl_->out.parent_path() : fs::path(spill_dir);
        impl_->spill = std::make_unique<data::GraphColumnSpill>(
            dir / (impl_->out.filename().string() + ".spill" + std::to_string(comm.rank())),
            static_cast<int32_t>(impl_->features.names.size()));
    });
}

GraphOutput::~GraphOutput() = default;

void GraphOutput::append(const data::EventGraph& graph) {
    if (impl_->writer) {
        impl_->writer->append(graph);
    } else {
        HEPGNN_INTERNAL_CHECK(impl_->spill != nullptr, "append after commit");
        impl_->spill->append(graph);
    }
}

void GraphOutput::commit() {
    auto& comm = impl_->comm;
    if (impl_->writer) {
        comm.collectively([&] { impl_->writer->commit(); });
        return;
    }
    // Note [Parallel graph file]: agree on the layout, write in place, publish.
    int64_t first = 0;
    const data::GraphIndex index = gather_index(comm, impl_->spill->index(), first);
    const auto at = static_cast<size_t>(first);
    const int64_t first_node = index.node_offsets[at], first_edge = index.edge_offsets[at];
    data::GraphFileLayout layout;
    comm.collectively([&] {
        if (comm.rank() == 0)
            layout = data::create_graph_file_layout(impl_->out, index, impl_->features);
    });
    layout.tmp_path = comm.broadcast_string(layout.tmp_path.string());
    layout.n_features = static_cast<int32_t>(impl_->features.names.size());
    layout.n_nodes = index.num_nodes();
    layout.n_edges = index.num_edges();
    comm.broadcast(layout.column_offsets.data(), layout.column_offsets.size());
    try {
        comm.collectively([&] { impl_->spill->write_into(layout, first_node, first_edge); });
        impl_->spill.reset();  // the spill files go before the file appears
        comm.collectively([&] {
            if (comm.rank() == 0) data::publish_graph_file(layout, impl_->out);
        });
    } catch (...) {
        std::error_code ec;
        if (comm.rank() == 0) fs::remove(layout.tmp_path, ec);
        throw;
    }
}

}  // namespace hepgnn::app
