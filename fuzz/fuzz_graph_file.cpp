// The graph-file reader, two ways (the first input byte picks):
//  * raw: the input is the whole file (HDF5's own parser sees garbage);
//  * mutated: a valid file of two graphs, then the input's edit operations on
//    its datasets and attributes through HDF5 (flipped bytes, resized or
//    deleted datasets, damaged attributes), so the reader's own validation
//    of shapes, offsets, indices, labels and features is what gets tested.
// Either way the file is opened and every graph read, with and without truth.
#include <hdf5.h>

#include <cstring>
#include <vector>

#include "core/text_file.hpp"
#include "data/graph_file.hpp"
#include "fuzz/fuzz_input.hpp"

namespace {

using namespace hepgnn;

constexpr const char* kDatasets[] = {"x",         "senders",      "receivers",    "y",
                                     "hit_id",    "particle_id",  "pt",           "volume_id",
                                     "layer_id",  "node_offsets", "edge_offsets", "event_id",
                                     "section_id"};
constexpr const char* kAttributes[] = {"format", "version", "feature_names", "feature_scale"};
constexpr size_t kNumDatasets = sizeof kDatasets / sizeof kDatasets[0];
constexpr size_t kNumAttributes = sizeof kAttributes / sizeof kAttributes[0];

data::EventGraph small_graph(int64_t event_id, int32_t section, int n_nodes, int n_edges) {
    data::EventGraph g;
    g.event_id = event_id;
    g.section_id = section;
    g.n_nodes = n_nodes;
    g.n_features = 3;
    for (int i = 0; i < n_nodes * 3; ++i) g.x.push_back(0.01f * static_cast<float>(i));
    for (int e = 0; e < n_edges; ++e) {
        g.senders.push_back(e % n_nodes);
        g.receivers.push_back((e * 7 + 1) % n_nodes);
        g.y.push_back(static_cast<uint8_t>(e % 2));
    }
    for (int i = 0; i < n_nodes; ++i) {
        g.hit_id.push_back(1000 * event_id + i + 1);
        g.particle_id.push_back(i / 3);
        g.pt.push_back(0.5f + static_cast<float>(i));
        g.volume_id.push_back(8);
        g.layer_id.push_back(2 * (1 + i % 4));
    }
    return g;
}

/// The bytes of a valid two-graph file, made once.
const std::string& template_file() {
    static const std::string bytes = [] {
        const auto path = fuzz::scratch_dir() / "template.h5";
        data::GraphFileWriter w(path, data::FeatureInfo{{"r", "phi", "z"}, {1000.f, 0.4f, 1000.f}});
        w.append(small_graph(7, 0, 12, 30));
        w.append(small_graph(7, 1, 9, 17));
        w.commit();
        return read_text_file(path);
    }();
    return bytes;
}

/// XORs byte `pos` (modulo the size) of dataset or attribute `obj`'s raw data with `value`.
void flip_dataset_byte(hid_t file, const char* name, uint32_t pos, uint8_t value) {
    const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0) return;
    const hid_t type = H5Dget_type(d);
    const hid_t space = H5Dget_space(d);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    const size_t bytes = static_cast<size_t>(n) * H5Tget_size(type);
    if (n > 0 && bytes < (1u << 24)) {
        std::vector<unsigned char> buf(bytes);
        if (H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) >= 0) {
            buf[pos % bytes] ^= value;
            H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
        }
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Dclose(d);
}

void resize_dataset(hid_t file, const char* name, uint32_t rows) {
    const hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0) return;
    const hid_t space = H5Dget_space(d);
    hsize_t dims[2] = {0, 0};
    const int rank = H5Sget_simple_extent_dims(space, dims, nullptr);
    if (rank >= 1) {
        dims[0] = rows % (2 * dims[0] + 3);
        H5Dset_extent(d, dims);  // fails (harmlessly) on datasets of fixed size
    }
    H5Sclose(space);
    H5Dclose(d);
}

void flip_attribute_byte(hid_t file, const char* name, uint32_t pos, uint8_t value) {
    if (H5Aexists(file, name) <= 0) return;
    const hid_t a = H5Aopen(file, name, H5P_DEFAULT);
    const hid_t type = H5Aget_type(a);
    const hid_t space = H5Aget_space(a);
    const hssize_t n = H5Sget_simple_extent_npoints(space);
    // Variable-length strings hold pointers in memory: edit fixed-size data only.
    if (H5Tis_variable_str(type) <= 0 && n > 0) {
        const size_t bytes = static_cast<size_t>(n) * H5Tget_size(type);
        std::vector<unsigned char> buf(bytes);
        if (H5Aread(a, type, buf.data()) >= 0) {
            buf[pos % bytes] ^= value;
            H5Awrite(a, type, buf.data());
        }
    }
    H5Sclose(space);
    H5Tclose(type);
    H5Aclose(a);
}

/// Applies the input's edits, 7 bytes each: kind, target, position (4), value.
void apply_edits(const std::filesystem::path& path, std::string_view edits) {
    const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (file < 0) std::abort();  // the template must open
    for (size_t at = 0; at + 7 <= edits.size() && at < 7 * 16; at += 7) {
        const auto* e = reinterpret_cast<const unsigned char*>(edits.data() + at);
        uint32_t pos;
        std::memcpy(&pos, e + 2, 4);
        const char* dataset = kDatasets[e[1] % kNumDatasets];
        const char* attribute = kAttributes[e[1] % kNumAttributes];
        switch (e[0] % 5) {
            case 0:
                flip_dataset_byte(file, dataset, pos, e[6] ? e[6] : 1);
                break;
            case 1:
                resize_dataset(file, dataset, pos);
                break;
            case 2:
                H5Ldelete(file, dataset, H5P_DEFAULT);
                break;
            case 3:
                flip_attribute_byte(file, attribute, pos, e[6] ? e[6] : 1);
                break;
            default:
                H5Adelete(file, attribute);
                break;
        }
    }
    H5Fclose(file);
}

void read_everything(const std::filesystem::path& path) {
    fuzz::expect_clean([&] {
        const auto f = data::GraphFile::open(path);
        for (int64_t g = 0; g < f.num_graphs(); ++g) {
            f.read_graph(g);
            f.read_graph(g, data::GraphFile::ReadOptions{false});
        }
    });
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const bool quiet = [] {
        H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // the harness's own edits may fail
        return true;
    }();
    (void)quiet;
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    if (data[0] % 2 == 0) {
        read_everything(fuzz::write_input("raw.h5", in));
    } else {
        const auto path = fuzz::write_input("mutated.h5", template_file());
        apply_edits(path, in);
        read_everything(path);
    }
    return 0;
}
