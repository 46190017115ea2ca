// HDF5 internals shared by the graph-file writers and reader (data/graph_file.cpp,
// data/parallel_graph_file.cpp): an owning identifier, native types of the column element
// types, whole-dataset and attribute writers, and the writer of a file's index and attributes.
// Internal to data/.
#pragma once

#include <hdf5.h>

#include <string>
#include <utility>
#include <vector>

#include "core/error.hpp"
#include "data/graph_file.hpp"

namespace hepgnn::data::hdf5 {

// Note [HDF5 error stacks]: HDF5 prints its own multi-line error stack on
// every failed call. We turn that off once and report one line ourselves.
inline void silence_hdf5_errors() {
    static const bool done = [] {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
        return true;
    }();
    (void)done;
}

/// Owns one HDF5 identifier and closes it with the matching H5*close.
class Handle {
public:
    using Closer = herr_t (*)(hid_t);
    Handle() = default;
    Handle(hid_t id, Closer closer) : id_(id), closer_(closer) {}
    Handle(Handle&& o) noexcept : id_(std::exchange(o.id_, -1)), closer_(o.closer_) {}
    Handle& operator=(Handle&& o) noexcept {
        reset();
        id_ = std::exchange(o.id_, -1);
        closer_ = o.closer_;
        return *this;
    }
    Handle(const Handle&) = delete;
    Handle& operator=(const Handle&) = delete;
    ~Handle() { reset(); }
    void reset() { (void)close(); }
    /// Closes now; false when HDF5 reports an error (e.g. a full disk on the last flush).
    bool close() {
        const herr_t rc = id_ >= 0 && closer_ ? closer_(id_) : 0;
        id_ = -1;
        return rc >= 0;
    }
    hid_t get() const { return id_; }
    bool valid() const { return id_ >= 0; }

private:
    hid_t id_ = -1;
    Closer closer_ = nullptr;
};

template <typename T>
struct H5Type;
template <>
struct H5Type<int64_t> {
    static hid_t native() { return H5T_NATIVE_INT64; }
    static constexpr H5T_class_t cls = H5T_INTEGER;
    static constexpr bool is_signed = true;
    static constexpr const char* name = "int64";
};
template <>
struct H5Type<int32_t> {
    static hid_t native() { return H5T_NATIVE_INT32; }
    static constexpr H5T_class_t cls = H5T_INTEGER;
    static constexpr bool is_signed = true;
    static constexpr const char* name = "int32";
};
template <>
struct H5Type<uint8_t> {
    static hid_t native() { return H5T_NATIVE_UINT8; }
    static constexpr H5T_class_t cls = H5T_INTEGER;
    static constexpr bool is_signed = false;
    static constexpr const char* name = "uint8";
};
template <>
struct H5Type<float> {
    static hid_t native() { return H5T_NATIVE_FLOAT; }
    static constexpr H5T_class_t cls = H5T_FLOAT;
    static constexpr bool is_signed = true;
    static constexpr const char* name = "float32";
};

template <typename T>
inline void write_whole_dataset(hid_t file, const char* name, const std::vector<T>& values) {
    hsize_t dims[1] = {values.size()};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle dset(H5Dcreate2(file, name, H5Type<T>::native(), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT),
                H5Dclose);
    HEPGNN_CHECK(dset.valid(), "cannot create dataset '{}' in the output file", name);
    if (!values.empty()) {
        HEPGNN_CHECK(H5Dwrite(dset.get(), H5Type<T>::native(), H5S_ALL, H5S_ALL, H5P_DEFAULT,
                              values.data()) >= 0,
                     "cannot write dataset '{}' (disk full?)", name);
    }
}

inline void write_int_attribute(hid_t obj, const char* name, int64_t value) {
    Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    Handle attr(H5Acreate2(obj, name, H5T_NATIVE_INT64, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    H5Awrite(attr.get(), H5T_NATIVE_INT64, &value);
}

inline void write_string_attribute(hid_t obj, const char* name,
                                   const std::vector<std::string>& values, bool scalar) {
    Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(type.get(), H5T_VARIABLE);
    H5Tset_cset(type.get(), H5T_CSET_UTF8);
    hsize_t dims[1] = {values.size()};
    Handle space(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle attr(H5Acreate2(obj, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
    std::vector<const char*> ptrs;
    for (const auto& v : values) ptrs.push_back(v.c_str());
    H5Awrite(attr.get(), type.get(), ptrs.data());
}

inline void write_float_array_attribute(hid_t obj, const char* name,
                                        const std::vector<float>& values) {
    hsize_t dims[1] = {values.size()};
    Handle space(H5Screate_simple(1, dims, nullptr), H5Sclose);
    Handle attr(H5Acreate2(obj, name, H5T_NATIVE_FLOAT, space.get(), H5P_DEFAULT, H5P_DEFAULT),
                H5Aclose);
    H5Awrite(attr.get(), H5T_NATIVE_FLOAT, values.data());
}

/// The graph file's index datasets (node_offsets, edge_offsets, event_id, section_id) and its
/// root attributes (format, version, feature_names, feature_scale). Throws hepgnn::Error.
void write_index_and_attributes(hid_t file, const GraphIndex& index, const FeatureInfo& features);

}  // namespace hepgnn::data::hdf5
