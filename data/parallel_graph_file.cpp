#include "data/parallel_graph_file.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/graph_file_hdf5.hpp"

namespace hepgnn::data {
using namespace hdf5;  // NOLINT: the graph files' HDF5 internals
namespace {

/// One column as the file stores it (Note [Parallel graph file]).
struct Column {
    const char* name;
    hid_t (*file_type)();  // H5T_* are run-time identifiers
    int64_t element_bytes;
    bool per_edge;
    bool per_feature;  // x: F values a node
};

// The order of GraphFileLayout::column_offsets.
const Column kColumns[kGraphColumns] = {
    {"x", [] { return H5T_IEEE_F32LE; }, 4, false, true},
    {"hit_id", [] { return H5T_STD_I64LE; }, 8, false, false},
    {"particle_id", [] { return H5T_STD_I64LE; }, 8, false, false},
    {"pt", [] { return H5T_IEEE_F32LE; }, 4, false, false},
    {"volume_id", [] { return H5T_STD_I32LE; }, 4, false, false},
    {"layer_id", [] { return H5T_STD_I32LE; }, 4, false, false},
    {"senders", [] { return H5T_STD_I32LE; }, 4, true, false},
    {"receivers", [] { return H5T_STD_I32LE; }, 4, true, false},
    {"y", [] { return H5T_STD_U8LE; }, 1, true, false},
};

/// Bytes of one row (node or edge) of column c.
int64_t row_bytes(const Column& c, int32_t n_features) {
    return c.element_bytes * (c.per_feature ? n_features : 1);
}

/// Copies `bytes` from the start of `in` to offset `at` of `out` inside the kernel
/// (copy_file_range: nothing is read into user space and written back). Returns false, having
/// copied nothing, where the kernel cannot copy between the two files (another file system);
/// throws on a write error.
bool copy_in_kernel(int in, int out, int64_t at, int64_t bytes, const std::string& what) {
    loff_t from = 0, to = at;
    while (from < bytes) {
        const ssize_t n =
            ::copy_file_range(in, &from, out, &to, static_cast<size_t>(bytes - from), 0);
        if (n < 0 && from == 0 &&
            (errno == EXDEV || errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
            return false;
        HEPGNN_CHECK(n > 0, "cannot write {}: {} (disk full? free some space)", what,
                     n < 0 ? std::strerror(errno) : "the spilled column ended early");
    }
    return true;
}

/// pwrites `bytes` from `data` at offset `at` of `out`.
void write_buffer(int out, int64_t at, const char* data, size_t bytes, const std::string& what) {
    for (size_t done = 0; done < bytes;) {
        const ssize_t w = ::pwrite(out, data + done, bytes - done,
                                   static_cast<off_t>(at + static_cast<int64_t>(done)));
        HEPGNN_CHECK(w > 0, "cannot write {}: {} (disk full? free some space)", what,
                     w < 0 ? std::strerror(errno) : "nothing written");
        done += static_cast<size_t>(w);
    }
}

/// The portable copy: reads `in` back in blocks and pwrites them.
void copy_through_buffer(std::FILE* in, const std::filesystem::path& in_path, int out, int64_t at,
                         int64_t bytes, const std::string& what, std::vector<char>& block) {
    block.resize(8 << 20);
    HEPGNN_CHECK(std::fseek(in, 0, SEEK_SET) == 0, "cannot read back '{}': {}", in_path.string(),
                 std::strerror(errno));
    for (int64_t left = bytes; left > 0;) {
        const size_t want = static_cast<size_t>(std::min<int64_t>(left, block.size()));
        HEPGNN_CHECK(std::fread(block.data(), 1, want, in) == want,
                     "cannot read back '{}': it is shorter than the graphs written to it",
                     in_path.string());
        write_buffer(out, at, block.data(), want, what);
        at += static_cast<int64_t>(want);
        left -= static_cast<int64_t>(want);
    }
}

}  // namespace

GraphFileLayout create_graph_file_layout(const std::filesystem::path& path, const GraphIndex& index,
                                         const FeatureInfo& features) {
    silence_hdf5_errors();
    HEPGNN_CHECK(!features.names.empty() && features.names.size() == features.scale.size(),
                 "graph file '{}': feature names and scales must be non-empty and of equal length",
                 path.string());
    GraphFileLayout layout;
    layout.tmp_path = temporary_path_for(path);
    layout.n_features = static_cast<int32_t>(features.names.size());
    layout.n_nodes = index.num_nodes();
    layout.n_edges = index.num_edges();
    if (path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(path.parent_path(), ec);
    }
    try {
        Handle file(H5Fcreate(layout.tmp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT),
                    H5Fclose);
        HEPGNN_CHECK(file.valid(),
                     "cannot create '{}': check that the directory exists and is "
                     "writable",
                     layout.tmp_path.string());
        // Contiguous and allocated now, so every column has its final place in the file; never
        // filled, since every byte is written by one of the ranks.
        Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
        H5Pset_layout(plist.get(), H5D_CONTIGUOUS);
        H5Pset_alloc_time(plist.get(), H5D_ALLOC_TIME_EARLY);
        H5Pset_fill_time(plist.get(), H5D_FILL_TIME_NEVER);
        for (int i = 0; i < kGraphColumns; ++i) {
            const Column& c = kColumns[i];
            const hsize_t dims[2] = {
                static_cast<hsize_t>(c.per_edge ? layout.n_edges : layout.n_nodes),
                static_cast<hsize_t>(layout.n_features)};
            Handle space(H5Screate_simple(c.per_feature ? 2 : 1, dims, nullptr), H5Sclose);
            Handle dset(H5Dcreate2(file.get(), c.name, c.file_type(), space.get(), H5P_DEFAULT,
                                   plist.get(), H5P_DEFAULT),
                        H5Dclose);
            HEPGNN_CHECK(dset.valid(), "cannot create dataset '{}' in '{}' (disk full?)", c.name,
                         layout.tmp_path.string());
            const haddr_t offset = dims[0] > 0 ? H5Dget_offset(dset.get()) : HADDR_UNDEF;
            HEPGNN_CHECK(dims[0] == 0 || offset != HADDR_UNDEF,
                         "'{}': HDF5 did not allocate dataset '{}'", layout.tmp_path.string(),
                         c.name);
            layout.column_offsets[static_cast<size_t>(i)] =
                dims[0] > 0 ? static_cast<int64_t>(offset) : -1;
        }
        write_index_and_attributes(file.get(), index, features);
        HEPGNN_CHECK(H5Fflush(file.get(), H5F_SCOPE_GLOBAL) >= 0 && file.close(),
                     "cannot write graph file '{}' (disk full? free some space; any previous "
                     "file of that name is unchanged)",
                     path.string());
    } catch (...) {
        std::error_code ec;
        std::filesystem::remove(layout.tmp_path, ec);
        throw;
    }
    return layout;
}

void publish_graph_file(const GraphFileLayout& layout, const std::filesystem::path& path) {
    publish_file(layout.tmp_path, path, "graph file");
}

struct GraphColumnSpill::Impl {
    std::filesystem::path stem;
    int32_t n_features = 0;
    std::FILE* files[kGraphColumns] = {};
    GraphIndex index;

    std::filesystem::path file_path(int i) const { return stem.string() + "." + kColumns[i].name; }
    void write(int i, const void* data, size_t bytes) {
        HEPGNN_CHECK(bytes == 0 || std::fwrite(data, 1, bytes, files[i]) == bytes,
                     "cannot write '{}': {} (disk full? free some space)", file_path(i).string(),
                     std::strerror(errno));
    }
};

GraphColumnSpill::GraphColumnSpill(std::filesystem::path stem, int32_t n_features)
    : impl_(std::make_unique<Impl>()) {
    impl_->stem = std::move(stem);
    impl_->n_features = n_features;
    // A missing folder is made, as the graph file writers do; on N ranks every rank may try,
    // and the ones that lose the race find it made.
    if (impl_->stem.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(impl_->stem.parent_path(), ec);
    }
    for (int i = 0; i < kGraphColumns; ++i) {
        impl_->files[i] = std::fopen(impl_->file_path(i).c_str(), "w+b");
        HEPGNN_CHECK(impl_->files[i] != nullptr,
                     "cannot create '{}': {}; check that the output folder is writable",
                     impl_->file_path(i).string(), std::strerror(errno));
    }
}

GraphColumnSpill::~GraphColumnSpill() {
    for (int i = 0; i < kGraphColumns; ++i) {
        if (impl_->files[i] == nullptr) continue;
        std::fclose(impl_->files[i]);
        std::error_code ec;
        std::filesystem::remove(impl_->file_path(i), ec);
    }
}

const GraphIndex& GraphColumnSpill::index() const {
    return impl_->index;
}

void GraphColumnSpill::append(const EventGraph& g) {
    HEPGNN_INTERNAL_CHECK(g.n_features == impl_->n_features &&
                              static_cast<int64_t>(g.x.size()) == g.n_nodes * g.n_features,
                          "graph has {} features, the spill {}", g.n_features, impl_->n_features);
    HEPGNN_INTERNAL_CHECK(g.receivers.size() == g.senders.size() && g.y.size() == g.senders.size(),
                          "edge columns of unequal length");
    const auto n = static_cast<size_t>(g.n_nodes);
    HEPGNN_INTERNAL_CHECK(g.hit_id.size() == n && g.particle_id.size() == n && g.pt.size() == n,
                          "graph without truth columns cannot be written");
    // Layer ids are optional in memory (graphs from files before them): 0 = unknown, as in
    // GraphFileWriter.
    const bool has_layers = g.volume_id.size() == n && g.layer_id.size() == n;
    const std::vector<int32_t> unknown(has_layers ? 0 : n, 0);
    auto put = [this](int i, const auto& v) { impl_->write(i, v.data(), v.size() * sizeof(v[0])); };
    put(0, g.x);
    put(1, g.hit_id);
    put(2, g.particle_id);
    put(3, g.pt);
    put(4, has_layers ? g.volume_id : unknown);
    put(5, has_layers ? g.layer_id : unknown);
    put(6, g.senders);
    put(7, g.receivers);
    put(8, g.y);
    impl_->index.add(g.n_nodes, g.n_edges(), g.event_id, g.section_id);
}

void GraphColumnSpill::write_into(const GraphFileLayout& layout, int64_t first_node,
                                  int64_t first_edge) {
    const auto& index = impl_->index;
    HEPGNN_INTERNAL_CHECK(layout.n_features == impl_->n_features &&
                              first_node + index.num_nodes() <= layout.n_nodes &&
                              first_edge + index.num_edges() <= layout.n_edges,
                          "graph file layout of {} nodes / {} edges cannot take {} nodes from {} "
                          "and {} edges from {}",
                          layout.n_nodes, layout.n_edges, index.num_nodes(), first_node,
                          index.num_edges(), first_edge);
    const int fd = ::open(layout.tmp_path.c_str(), O_WRONLY | O_CLOEXEC);
    HEPGNN_CHECK(fd >= 0, "cannot open '{}' for writing: {}", layout.tmp_path.string(),
                 std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    std::vector<char> block;  // only if the kernel cannot copy between the two files
    for (int i = 0; i < kGraphColumns; ++i) {
        const Column& c = kColumns[i];
        const int64_t rows = c.per_edge ? index.num_edges() : index.num_nodes();
        if (rows == 0) continue;
        const int64_t first = c.per_edge ? first_edge : first_node;
        const int64_t width = row_bytes(c, impl_->n_features);
        const int64_t at = layout.column_offsets[static_cast<size_t>(i)] + first * width;
        const int64_t bytes = rows * width;
        const std::string what =
            fmt::format("dataset '{}' of '{}'", c.name, layout.tmp_path.string());
        std::FILE* in = impl_->files[i];
        HEPGNN_CHECK(std::fflush(in) == 0, "cannot write '{}': {} (disk full? free some space)",
                     impl_->file_path(i).string(), std::strerror(errno));
        if (!copy_in_kernel(::fileno(in), fd, at, bytes, what))
            copy_through_buffer(in, impl_->file_path(i), fd, at, bytes, what, block);
    }
    HEPGNN_CHECK(::fsync(fd) == 0, "cannot sync '{}': {} (disk full?)", layout.tmp_path.string(),
                 std::strerror(errno));
}

}  // namespace hepgnn::data
