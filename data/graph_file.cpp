#include "data/graph_file.hpp"

#include <hdf5.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <utility>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "data/graph_file_hdf5.hpp"

namespace hepgnn::data {
using namespace hdf5;  // NOLINT: this file is the helpers' main user
namespace {

constexpr hsize_t kChunkRows = 1 << 14;  // elements per chunk: small files stay small

//------------------------------------------------------------------ writing

/// A growable 1-D or 2-D chunked dataset that is appended to row by row.
class AppendableDataset {
public:
    AppendableDataset() = default;
    AppendableDataset(hid_t file, const char* name, hid_t type, hsize_t cols)
        : name_(name), type_(type), cols_(cols) {
        const int rank = cols > 0 ? 2 : 1;
        hsize_t dims[2] = {0, cols};
        hsize_t maxdims[2] = {H5S_UNLIMITED, cols};
        hsize_t chunk[2] = {cols > 0 ? kChunkRows / cols : kChunkRows, cols};
        Handle space(H5Screate_simple(rank, dims, maxdims), H5Sclose);
        Handle plist(H5Pcreate(H5P_DATASET_CREATE), H5Pclose);
        H5Pset_chunk(plist.get(), rank, chunk);
        dset_ =
            Handle(H5Dcreate2(file, name, type, space.get(), H5P_DEFAULT, plist.get(), H5P_DEFAULT),
                   H5Dclose);
        HEPGNN_CHECK(dset_.valid(), "cannot create dataset '{}' in the output file", name);
    }

    template <typename T>
    void append(const std::vector<T>& values) {
        const hsize_t width = cols_ > 0 ? cols_ : 1;
        HEPGNN_INTERNAL_CHECK(values.size() % width == 0, "row width mismatch in '{}'", name_);
        const hsize_t n = values.size() / width;
        if (n == 0) return;
        const int rank = cols_ > 0 ? 2 : 1;
        hsize_t new_dims[2] = {rows_ + n, cols_};
        HEPGNN_CHECK(H5Dset_extent(dset_.get(), new_dims) >= 0,
                     "cannot extend dataset '{}' (disk full?)", name_);
        Handle file_space(H5Dget_space(dset_.get()), H5Sclose);
        hsize_t start[2] = {rows_, 0};
        hsize_t count[2] = {n, cols_};
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr);
        Handle mem_space(H5Screate_simple(rank, count, nullptr), H5Sclose);
        HEPGNN_CHECK(H5Dwrite(dset_.get(), H5Type<T>::native(), mem_space.get(), file_space.get(),
                              H5P_DEFAULT, values.data()) >= 0,
                     "cannot write dataset '{}' (disk full?)", name_);
        rows_ += n;
    }

private:
    std::string name_;
    hid_t type_ = -1;
    hsize_t cols_ = 0;
    hsize_t rows_ = 0;
    Handle dset_;
};

}  // namespace

void GraphIndex::add(int64_t n_nodes, int64_t n_edges, int64_t event_id, int32_t section_id) {
    node_offsets.push_back(node_offsets.back() + n_nodes);
    edge_offsets.push_back(edge_offsets.back() + n_edges);
    event_ids.push_back(event_id);
    section_ids.push_back(section_id);
}

void hdf5::write_index_and_attributes(hid_t f, const GraphIndex& index,
                                      const FeatureInfo& features) {
    write_whole_dataset(f, "node_offsets", index.node_offsets);
    write_whole_dataset(f, "edge_offsets", index.edge_offsets);
    write_whole_dataset(f, "event_id", index.event_ids);
    write_whole_dataset(f, "section_id", index.section_ids);
    write_string_attribute(f, "format", {kGraphFileFormat}, true);
    write_int_attribute(f, "version", kGraphFileVersion);
    write_string_attribute(f, "feature_names", features.names, false);
    write_float_array_attribute(f, "feature_scale", features.scale);
}

struct GraphFileWriter::Impl {
    std::filesystem::path path;
    std::filesystem::path tmp_path;
    FeatureInfo features;
    Handle file;
    AppendableDataset x, senders, receivers, y, hit_id, particle_id, pt, volume_id, layer_id;
    GraphIndex index;
    bool committed = false;
};

GraphFileWriter::GraphFileWriter(std::filesystem::path path, FeatureInfo features)
    : impl_(std::make_unique<Impl>()) {
    silence_hdf5_errors();
    HEPGNN_CHECK(!features.names.empty() && features.names.size() == features.scale.size(),
                 "graph file '{}': feature names and scales must be non-empty and of equal "
                 "length",
                 path.string());
    impl_->path = std::move(path);
    impl_->tmp_path = temporary_path_for(impl_->path);
    impl_->features = std::move(features);
    if (impl_->path.has_parent_path()) {
        std::error_code ec;
        std::filesystem::create_directories(impl_->path.parent_path(), ec);
    }
    impl_->file = Handle(
        H5Fcreate(impl_->tmp_path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    HEPGNN_CHECK(impl_->file.valid(),
                 "cannot create '{}': check that the directory exists and is writable",
                 impl_->tmp_path.string());
    const hid_t f = impl_->file.get();
    const auto F = static_cast<hsize_t>(impl_->features.names.size());
    impl_->x = AppendableDataset(f, "x", H5T_IEEE_F32LE, F);
    impl_->senders = AppendableDataset(f, "senders", H5T_STD_I32LE, 0);
    impl_->receivers = AppendableDataset(f, "receivers", H5T_STD_I32LE, 0);
    impl_->y = AppendableDataset(f, "y", H5T_STD_U8LE, 0);
    impl_->hit_id = AppendableDataset(f, "hit_id", H5T_STD_I64LE, 0);
    impl_->particle_id = AppendableDataset(f, "particle_id", H5T_STD_I64LE, 0);
    impl_->pt = AppendableDataset(f, "pt", H5T_IEEE_F32LE, 0);
    impl_->volume_id = AppendableDataset(f, "volume_id", H5T_STD_I32LE, 0);
    impl_->layer_id = AppendableDataset(f, "layer_id", H5T_STD_I32LE, 0);
}

GraphFileWriter::~GraphFileWriter() {
    if (impl_ && !impl_->committed) {
        impl_->file.reset();
        std::error_code ec;
        std::filesystem::remove(impl_->tmp_path, ec);
    }
}

int64_t GraphFileWriter::num_graphs() const {
    return impl_->index.num_graphs();
}

void GraphFileWriter::append(const EventGraph& g) {
    HEPGNN_INTERNAL_CHECK(!impl_->committed, "append after commit");
    const auto F = static_cast<int64_t>(impl_->features.names.size());
    HEPGNN_INTERNAL_CHECK(g.n_features == F && static_cast<int64_t>(g.x.size()) == g.n_nodes * F,
                          "graph has {} features, file has {}", g.n_features, F);
    HEPGNN_INTERNAL_CHECK(g.receivers.size() == g.senders.size() && g.y.size() == g.senders.size(),
                          "edge columns of unequal length");
    HEPGNN_INTERNAL_CHECK(static_cast<int64_t>(g.hit_id.size()) == g.n_nodes &&
                              static_cast<int64_t>(g.particle_id.size()) == g.n_nodes &&
                              static_cast<int64_t>(g.pt.size()) == g.n_nodes,
                          "graph without truth columns cannot be written");
    try {
        impl_->x.append(g.x);
        impl_->senders.append(g.senders);
        impl_->receivers.append(g.receivers);
        impl_->y.append(g.y);
        impl_->hit_id.append(g.hit_id);
        impl_->particle_id.append(g.particle_id);
        impl_->pt.append(g.pt);
        // Layer ids are optional in memory (graphs from files before them): 0 = unknown.
        const bool has_layers = static_cast<int64_t>(g.volume_id.size()) == g.n_nodes &&
                                static_cast<int64_t>(g.layer_id.size()) == g.n_nodes;
        const std::vector<int32_t> unknown(has_layers ? 0 : static_cast<size_t>(g.n_nodes), 0);
        impl_->volume_id.append(has_layers ? g.volume_id : unknown);
        impl_->layer_id.append(has_layers ? g.layer_id : unknown);
    } catch (const Error& e) {
        HEPGNN_FAIL("graph file '{}': {}", impl_->path.string(), e.what());
    }
    impl_->index.add(g.n_nodes, g.n_edges(), g.event_id, g.section_id);
}

void GraphFileWriter::commit() {
    HEPGNN_INTERNAL_CHECK(!impl_->committed, "commit twice");
    const hid_t f = impl_->file.get();
    try {
        write_index_and_attributes(f, impl_->index, impl_->features);
    } catch (const Error& e) {
        HEPGNN_FAIL("graph file '{}': {}", impl_->path.string(), e.what());
    }
    HEPGNN_CHECK(H5Fflush(f, H5F_SCOPE_GLOBAL) >= 0 && impl_->file.close(),
                 "cannot write graph file '{}' (disk full? free some space; any previous file "
                 "of that name is unchanged)",
                 impl_->path.string());
    publish_file(impl_->tmp_path, impl_->path, "graph file");
    impl_->committed = true;
}

//------------------------------------------------------------------ reading

namespace {

struct DatasetInfo {
    Handle dset;
    hsize_t rows = 0;
    hsize_t cols = 0;  // 0 for 1-D
};

}  // namespace

struct GraphFile::Impl {
    std::filesystem::path path;
    Handle file;
    FeatureInfo features;
    std::vector<int64_t> node_offsets, edge_offsets, event_ids;
    std::vector<int32_t> section_ids;
    DatasetInfo x, senders, receivers, y, hit_id, particle_id, pt;
    DatasetInfo volume_id, layer_id;  // optional: files written before them lack them
    bool has_layers = false;

    std::string where() const { return path.string(); }

    template <typename T>
    DatasetInfo open_dataset(const char* name, int want_rank) {
        DatasetInfo info;
        HEPGNN_CHECK(H5Lexists(file.get(), name, H5P_DEFAULT) > 0,
                     "{}: dataset '{}' is missing; the file is not a complete hepgnn graph "
                     "file: re-run 'hepgnn prepare'",
                     where(), name);
        info.dset = Handle(H5Dopen2(file.get(), name, H5P_DEFAULT), H5Dclose);
        HEPGNN_CHECK(info.dset.valid(), "{}: cannot open dataset '{}'", where(), name);
        Handle type(H5Dget_type(info.dset.get()), H5Tclose);
        const bool sign_ok = H5Type<T>::cls != H5T_INTEGER ||
                             ((H5Tget_sign(type.get()) == H5T_SGN_2) == H5Type<T>::is_signed);
        HEPGNN_CHECK(H5Tget_class(type.get()) == H5Type<T>::cls &&
                         H5Tget_size(type.get()) == sizeof(T) && sign_ok,
                     "{}: dataset '{}' has the wrong type (expected {}); the file was not "
                     "written by hepgnn schema version {}",
                     where(), name, H5Type<T>::name, kGraphFileVersion);
        Handle space(H5Dget_space(info.dset.get()), H5Sclose);
        const int rank = H5Sget_simple_extent_ndims(space.get());
        HEPGNN_CHECK(rank == want_rank, "{}: dataset '{}' has {} dimensions, expected {}", where(),
                     name, rank, want_rank);
        hsize_t dims[2] = {0, 0};
        H5Sget_simple_extent_dims(space.get(), dims, nullptr);
        info.rows = dims[0];
        info.cols = want_rank == 2 ? dims[1] : 0;
        return info;
    }

    template <typename T>
    std::vector<T> read_all(const char* name) {
        DatasetInfo info = open_dataset<T>(name, 1);
        std::vector<T> out(info.rows);
        if (info.rows > 0) {
            HEPGNN_CHECK(H5Dread(info.dset.get(), H5Type<T>::native(), H5S_ALL, H5S_ALL,
                                 H5P_DEFAULT, out.data()) >= 0,
                         "{}: cannot read dataset '{}': the file is truncated or corrupt", where(),
                         name);
        }
        return out;
    }

    template <typename T>
    void read_rows(const DatasetInfo& info, const char* name, int64_t graph, int64_t begin,
                   int64_t count, std::vector<T>& out) const {
        const hsize_t width = info.cols > 0 ? info.cols : 1;
        out.resize(static_cast<size_t>(count) * width);
        if (count == 0) return;
        const int rank = info.cols > 0 ? 2 : 1;
        Handle file_space(H5Dget_space(info.dset.get()), H5Sclose);
        hsize_t start[2] = {static_cast<hsize_t>(begin), 0};
        hsize_t n[2] = {static_cast<hsize_t>(count), info.cols};
        H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, n, nullptr);
        Handle mem_space(H5Screate_simple(rank, n, nullptr), H5Sclose);
        HEPGNN_CHECK(H5Dread(info.dset.get(), H5Type<T>::native(), mem_space.get(),
                             file_space.get(), H5P_DEFAULT, out.data()) >= 0,
                     "{}: cannot read dataset '{}' for graph {}: the file is truncated or "
                     "corrupt",
                     where(), name, graph);
    }

    void read_attributes();
    void validate_offsets(const std::vector<int64_t>& offsets, const char* name, hsize_t total_rows,
                          const char* data_name) const;
};

namespace {

bool has_attribute(hid_t obj, const char* name) {
    return H5Aexists(obj, name) > 0;
}

std::vector<std::string> read_string_attribute(hid_t obj, const char* name,
                                               const std::string& where) {
    Handle attr(H5Aopen(obj, name, H5P_DEFAULT), H5Aclose);
    HEPGNN_CHECK(attr.valid(), "{}: cannot open attribute '{}'", where, name);
    Handle type(H5Aget_type(attr.get()), H5Tclose);
    HEPGNN_CHECK(H5Tget_class(type.get()) == H5T_STRING, "{}: attribute '{}' must be a string",
                 where, name);
    Handle space(H5Aget_space(attr.get()), H5Sclose);
    const hssize_t n = H5Sget_simple_extent_npoints(space.get());
    std::vector<std::string> out;
    if (H5Tis_variable_str(type.get()) > 0) {
        std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
        Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
        H5Tset_size(mem.get(), H5T_VARIABLE);
        H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
        HEPGNN_CHECK(H5Aread(attr.get(), mem.get(), ptrs.data()) >= 0,
                     "{}: cannot read attribute '{}'", where, name);
        for (char* p : ptrs) out.emplace_back(p ? p : "");
        H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    } else {
        const size_t len = H5Tget_size(type.get());
        std::vector<char> buf(len * static_cast<size_t>(n) + 1, '\0');
        HEPGNN_CHECK(H5Aread(attr.get(), type.get(), buf.data()) >= 0,
                     "{}: cannot read attribute '{}'", where, name);
        for (hssize_t i = 0; i < n; ++i) {
            std::string s(buf.data() + i * len, len);
            s.erase(s.find_last_not_of(std::string("\0 ", 2)) + 1);
            out.push_back(s);
        }
    }
    return out;
}

}  // namespace

void GraphFile::Impl::read_attributes() {
    const hid_t f = file.get();
    const std::string fix = "; the file was not written by 'hepgnn prepare'";
    HEPGNN_CHECK(has_attribute(f, "format"), "{}: root attribute 'format' is missing{}", where(),
                 fix);
    const auto format = read_string_attribute(f, "format", where());
    HEPGNN_CHECK(format.size() == 1 && format[0] == kGraphFileFormat,
                 "{}: root attribute 'format' is '{}', expected '{}'{}", where(),
                 format.empty() ? "" : format[0], kGraphFileFormat, fix);
    HEPGNN_CHECK(has_attribute(f, "version"), "{}: root attribute 'version' is missing{}", where(),
                 fix);
    int64_t version = -1;
    {
        Handle attr(H5Aopen(f, "version", H5P_DEFAULT), H5Aclose);
        HEPGNN_CHECK(H5Aread(attr.get(), H5T_NATIVE_INT64, &version) >= 0,
                     "{}: root attribute 'version' is not an integer", where());
    }
    HEPGNN_CHECK(version == kGraphFileVersion,
                 "{}: unknown schema version {} (this hepgnn reads version {}); re-run "
                 "'hepgnn prepare' with this hepgnn or use a matching release",
                 where(), version, kGraphFileVersion);
    HEPGNN_CHECK(has_attribute(f, "feature_names"),
                 "{}: root attribute 'feature_names' is missing{}", where(), fix);
    features.names = read_string_attribute(f, "feature_names", where());
    HEPGNN_CHECK(has_attribute(f, "feature_scale"),
                 "{}: root attribute 'feature_scale' is missing{}", where(), fix);
    {
        Handle attr(H5Aopen(f, "feature_scale", H5P_DEFAULT), H5Aclose);
        Handle space(H5Aget_space(attr.get()), H5Sclose);
        features.scale.resize(static_cast<size_t>(H5Sget_simple_extent_npoints(space.get())));
        HEPGNN_CHECK(H5Aread(attr.get(), H5T_NATIVE_FLOAT, features.scale.data()) >= 0,
                     "{}: root attribute 'feature_scale' is not a float array", where());
    }
    HEPGNN_CHECK(features.names.size() == features.scale.size() && !features.names.empty(),
                 "{}: attributes 'feature_names' ({}) and 'feature_scale' ({}) differ in length",
                 where(), features.names.size(), features.scale.size());
}

void GraphFile::Impl::validate_offsets(const std::vector<int64_t>& offsets, const char* name,
                                       hsize_t total_rows, const char* data_name) const {
    HEPGNN_CHECK(!offsets.empty() && offsets.front() == 0, "{}: dataset '{}' must start with 0",
                 where(), name);
    for (size_t g = 0; g + 1 < offsets.size(); ++g) {
        HEPGNN_CHECK(offsets[g + 1] >= offsets[g],
                     "{}: dataset '{}' is not monotonic at graph {} ({} then {}); the file is "
                     "corrupt: re-run 'hepgnn prepare'",
                     where(), name, g, offsets[g], offsets[g + 1]);
    }
    HEPGNN_CHECK(static_cast<hsize_t>(offsets.back()) == total_rows,
                 "{}: dataset '{}' ends at {} but dataset '{}' has {} rows; the file is "
                 "truncated or corrupt: re-run 'hepgnn prepare'",
                 where(), name, offsets.back(), data_name, total_rows);
}

GraphFile::GraphFile(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
GraphFile::GraphFile(GraphFile&&) noexcept = default;
GraphFile& GraphFile::operator=(GraphFile&&) noexcept = default;
GraphFile::~GraphFile() = default;

GraphFile GraphFile::open(const std::filesystem::path& path) {
    silence_hdf5_errors();
    auto impl = std::make_unique<Impl>();
    impl->path = path;
    HEPGNN_CHECK(std::filesystem::exists(path),
                 "{}: no such file; check the path (make one with 'hepgnn prepare')",
                 path.string());
    HEPGNN_CHECK(H5Fis_hdf5(path.c_str()) > 0,
                 "{}: not an HDF5 file (or truncated); make graph files with 'hepgnn prepare'",
                 path.string());
    impl->file = Handle(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    HEPGNN_CHECK(impl->file.valid(), "{}: cannot open the HDF5 file (truncated or corrupt?)",
                 path.string());
    impl->read_attributes();

    impl->node_offsets = impl->read_all<int64_t>("node_offsets");
    impl->edge_offsets = impl->read_all<int64_t>("edge_offsets");
    impl->event_ids = impl->read_all<int64_t>("event_id");
    impl->section_ids = impl->read_all<int32_t>("section_id");
    const auto G = impl->event_ids.size();
    HEPGNN_CHECK(impl->node_offsets.size() == G + 1 && impl->edge_offsets.size() == G + 1 &&
                     impl->section_ids.size() == G,
                 "{}: datasets 'node_offsets' ({}), 'edge_offsets' ({}), 'section_id' ({}) do "
                 "not match 'event_id' ({} graphs, so G+1 offsets)",
                 path.string(), impl->node_offsets.size(), impl->edge_offsets.size(),
                 impl->section_ids.size(), G);

    impl->x = impl->open_dataset<float>("x", 2);
    impl->senders = impl->open_dataset<int32_t>("senders", 1);
    impl->receivers = impl->open_dataset<int32_t>("receivers", 1);
    impl->y = impl->open_dataset<uint8_t>("y", 1);
    impl->hit_id = impl->open_dataset<int64_t>("hit_id", 1);
    impl->particle_id = impl->open_dataset<int64_t>("particle_id", 1);
    impl->pt = impl->open_dataset<float>("pt", 1);
    impl->has_layers = H5Lexists(impl->file.get(), "volume_id", H5P_DEFAULT) > 0 &&
                       H5Lexists(impl->file.get(), "layer_id", H5P_DEFAULT) > 0;
    if (impl->has_layers) {
        impl->volume_id = impl->open_dataset<int32_t>("volume_id", 1);
        impl->layer_id = impl->open_dataset<int32_t>("layer_id", 1);
    }

    HEPGNN_CHECK(impl->x.cols == impl->features.names.size(),
                 "{}: dataset 'x' has {} feature columns but 'feature_names' lists {}",
                 path.string(), impl->x.cols, impl->features.names.size());
    impl->validate_offsets(impl->node_offsets, "node_offsets", impl->x.rows, "x");
    impl->validate_offsets(impl->edge_offsets, "edge_offsets", impl->senders.rows, "senders");
    const auto check_len = [&](const DatasetInfo& d, const char* name, hsize_t want,
                               const char* like) {
        HEPGNN_CHECK(d.rows == want, "{}: dataset '{}' has {} rows but '{}' has {}", path.string(),
                     name, d.rows, like, want);
    };
    check_len(impl->receivers, "receivers", impl->senders.rows, "senders");
    check_len(impl->y, "y", impl->senders.rows, "senders");
    check_len(impl->hit_id, "hit_id", impl->x.rows, "x");
    check_len(impl->particle_id, "particle_id", impl->x.rows, "x");
    check_len(impl->pt, "pt", impl->x.rows, "x");
    if (impl->has_layers) {
        check_len(impl->volume_id, "volume_id", impl->x.rows, "x");
        check_len(impl->layer_id, "layer_id", impl->x.rows, "x");
    }
    return GraphFile(std::move(impl));
}

const std::filesystem::path& GraphFile::path() const {
    return impl_->path;
}
int64_t GraphFile::num_graphs() const {
    return static_cast<int64_t>(impl_->event_ids.size());
}
int32_t GraphFile::n_features() const {
    return static_cast<int32_t>(impl_->features.names.size());
}
const FeatureInfo& GraphFile::features() const {
    return impl_->features;
}
const std::vector<int64_t>& GraphFile::node_offsets() const {
    return impl_->node_offsets;
}
const std::vector<int64_t>& GraphFile::edge_offsets() const {
    return impl_->edge_offsets;
}
const std::vector<int64_t>& GraphFile::event_ids() const {
    return impl_->event_ids;
}
const std::vector<int32_t>& GraphFile::section_ids() const {
    return impl_->section_ids;
}
int64_t GraphFile::num_nodes(int64_t g) const {
    return impl_->node_offsets[g + 1] - impl_->node_offsets[g];
}
int64_t GraphFile::num_edges(int64_t g) const {
    return impl_->edge_offsets[g + 1] - impl_->edge_offsets[g];
}

EventGraph GraphFile::read_graph(int64_t g, const ReadOptions& options) const {
    HEPGNN_CHECK(g >= 0 && g < num_graphs(), "{}: graph {} does not exist (the file has {})",
                 impl_->where(), g, num_graphs());
    const Impl& im = *impl_;
    EventGraph out;
    out.event_id = im.event_ids[g];
    out.section_id = im.section_ids[g];
    out.n_features = n_features();
    const int64_t n0 = im.node_offsets[g], nn = num_nodes(g);
    const int64_t e0 = im.edge_offsets[g], ne = num_edges(g);
    out.n_nodes = nn;
    im.read_rows(im.x, "x", g, n0, nn, out.x);
    im.read_rows(im.senders, "senders", g, e0, ne, out.senders);
    im.read_rows(im.receivers, "receivers", g, e0, ne, out.receivers);
    im.read_rows(im.y, "y", g, e0, ne, out.y);
    if (options.truth) {
        im.read_rows(im.hit_id, "hit_id", g, n0, nn, out.hit_id);
        im.read_rows(im.particle_id, "particle_id", g, n0, nn, out.particle_id);
        im.read_rows(im.pt, "pt", g, n0, nn, out.pt);
        if (im.has_layers) {
            im.read_rows(im.volume_id, "volume_id", g, n0, nn, out.volume_id);
            im.read_rows(im.layer_id, "layer_id", g, n0, nn, out.layer_id);
        }
    }

    // Content checks: cheap next to the read itself, and they turn a corrupt
    // file into one clear line instead of an out-of-bounds gather later.
    for (size_t i = 0; i < out.x.size(); ++i) {
        HEPGNN_CHECK(std::isfinite(out.x[i]),
                     "{}: dataset 'x', graph {}: node {} feature {} is not finite ({}); the "
                     "file is corrupt: re-run 'hepgnn prepare'",
                     im.where(), g, i / out.n_features, i % out.n_features, out.x[i]);
    }
    for (int64_t e = 0; e < ne; ++e) {
        const int32_t s = out.senders[e], r = out.receivers[e];
        HEPGNN_CHECK(s >= 0 && s < nn,
                     "{}: dataset 'senders', graph {}: edge {} has node index {} outside the "
                     "graph's {} nodes; the file is corrupt: re-run 'hepgnn prepare'",
                     im.where(), g, e, s, nn);
        HEPGNN_CHECK(r >= 0 && r < nn,
                     "{}: dataset 'receivers', graph {}: edge {} has node index {} outside the "
                     "graph's {} nodes; the file is corrupt: re-run 'hepgnn prepare'",
                     im.where(), g, e, r, nn);
        HEPGNN_CHECK(out.y[e] <= 1, "{}: dataset 'y', graph {}: edge {} has label {} (not 0/1)",
                     im.where(), g, e, static_cast<int>(out.y[e]));
    }
    for (size_t i = 0; i < out.pt.size(); ++i) {
        HEPGNN_CHECK(std::isfinite(out.pt[i]) && out.pt[i] >= 0,
                     "{}: dataset 'pt', graph {}: node {} has pt {} (must be finite, >= 0)",
                     im.where(), g, i, out.pt[i]);
    }
    return out;
}

std::vector<EventGraph> GraphFile::read_graphs(const std::vector<int64_t>& graphs,
                                               const ReadOptions& options) const {
    std::vector<EventGraph> out;
    out.reserve(graphs.size());
    for (int64_t g : graphs) out.push_back(read_graph(g, options));
    return out;
}

}  // namespace hepgnn::data
