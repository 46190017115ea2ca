#include <gtest/gtest.h>
#include <hdf5.h>

#include <cmath>
#include <fstream>
#include <optional>

#include "core/error.hpp"
#include "data/graph_file.hpp"
#include "data/parallel_graph_file.hpp"
#include "test_util.hpp"

using namespace hepgnn::data;
using hepgnn::testing_util::random_graph;
using hepgnn::testing_util::TempDir;

namespace {

FeatureInfo features() {
    return {{"r", "phi", "z"}, {1000.f, 0.39f, 1000.f}};
}

std::vector<EventGraph> write_sample(const std::filesystem::path& path, int n_graphs = 5) {
    std::vector<EventGraph> graphs;
    GraphFileWriter writer(path, features());
    for (int g = 0; g < n_graphs; ++g) {
        graphs.push_back(random_graph(100 + g / 2, g % 2, 10 + 7 * g, 30 + 11 * g, g));
        writer.append(graphs.back());
    }
    writer.commit();
    return graphs;
}

std::string open_and_read_all_error(const std::filesystem::path& path) {
    try {
        const auto f = GraphFile::open(path);
        for (int64_t g = 0; g < f.num_graphs(); ++g) f.read_graph(g);
    } catch (const hepgnn::Error& e) {
        return e.what();
    }
    return "";
}

// Modifies a valid file in place with the raw HDF5 API.
template <typename Fn>
void edit(const std::filesystem::path& path, Fn fn) {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    fn(f);
    H5Fclose(f);
}

template <typename T>
void overwrite_element(hid_t f, const char* name, hsize_t index, T value, hid_t type) {
    const hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    const hid_t space = H5Dget_space(d);
    hsize_t start[2] = {index, 0}, count[2] = {1, 1};
    H5Sselect_hyperslab(space, H5S_SELECT_SET, start, nullptr, count, nullptr);
    const int rank = H5Sget_simple_extent_ndims(space);
    const hid_t mem = H5Screate_simple(rank, count, nullptr);
    H5Dwrite(d, type, mem, space, H5P_DEFAULT, &value);
    H5Sclose(mem);
    H5Sclose(space);
    H5Dclose(d);
}

}  // namespace

TEST(GraphFile, RoundTripsEveryColumn) {
    TempDir dir;
    const auto graphs = write_sample(dir / "g.h5");
    const auto f = GraphFile::open(dir / "g.h5");
    ASSERT_EQ(f.num_graphs(), 5);
    EXPECT_EQ(f.features().names, features().names);
    EXPECT_EQ(f.features().scale, features().scale);
    for (int g = 0; g < 5; ++g) {
        const auto r = f.read_graph(g);
        EXPECT_EQ(r.event_id, graphs[g].event_id);
        EXPECT_EQ(r.section_id, graphs[g].section_id);
        EXPECT_EQ(r.n_nodes, graphs[g].n_nodes);
        EXPECT_EQ(r.x, graphs[g].x);
        EXPECT_EQ(r.senders, graphs[g].senders);
        EXPECT_EQ(r.receivers, graphs[g].receivers);
        EXPECT_EQ(r.y, graphs[g].y);
        EXPECT_EQ(r.hit_id, graphs[g].hit_id);
        EXPECT_EQ(r.particle_id, graphs[g].particle_id);
        EXPECT_EQ(r.pt, graphs[g].pt);
        EXPECT_EQ(f.num_edges(g), graphs[g].n_edges());
    }
}

TEST(GraphFile, ReadsASubsetWithoutTruth) {
    TempDir dir;
    const auto graphs = write_sample(dir / "g.h5");
    const auto f = GraphFile::open(dir / "g.h5");
    GraphFile::ReadOptions opts;
    opts.truth = false;
    const auto sub = f.read_graphs({4, 1}, opts);
    ASSERT_EQ(sub.size(), 2u);
    EXPECT_EQ(sub[0].x, graphs[4].x);
    EXPECT_EQ(sub[1].senders, graphs[1].senders);
    EXPECT_TRUE(sub[0].hit_id.empty());
}

TEST(GraphFile, UncommittedWriterLeavesNoFile) {
    TempDir dir;
    {
        GraphFileWriter writer(dir / "g.h5", features());
        writer.append(random_graph(1, 0, 5, 5, 1));
    }  // destroyed without commit, e.g. after an exception
    EXPECT_FALSE(std::filesystem::exists(dir / "g.h5"));
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

// Note [Parallel graph file]: two "ranks" in one process, each spilling its block and writing
// it in place, give the same datasets as one writer of all graphs. With the spills beside the
// output the kernel copies them (copy_file_range); from /dev/shm, another file system, the
// copy may go through a buffer instead (kernels from 5.19 refuse to copy across file systems).
class ParallelGraphFile : public ::testing::TestWithParam<bool> {};

TEST_P(ParallelGraphFile, TwoSpillsWrittenInPlaceEqualOneWriter) {
    TempDir dir;
    const bool in_shm = GetParam();
    if (in_shm && !std::filesystem::is_directory("/dev/shm")) GTEST_SKIP() << "no /dev/shm";
    std::optional<TempDir> shm;
    if (in_shm) shm.emplace("/dev/shm");
    const std::filesystem::path spill_dir = in_shm ? shm->path() : dir.path();
    std::vector<EventGraph> graphs;
    GraphFileWriter writer(dir / "one.h5", features());
    for (int g = 0; g < 7; ++g) {
        graphs.push_back(random_graph(100 + g / 2, g % 2, 10 + 7 * g, 30 + 11 * g, g));
        if (g % 2 == 0) {  // layer ids on some graphs; the others are written as 0 = unknown
            graphs.back().volume_id.assign(static_cast<size_t>(graphs.back().n_nodes), 8 + g);
            graphs.back().layer_id.assign(static_cast<size_t>(graphs.back().n_nodes), 2 * g);
        }
        writer.append(graphs.back());
    }
    writer.commit();
    GraphColumnSpill first(spill_dir / "spill0", 3), second(spill_dir / "spill1", 3);
    for (size_t g = 0; g < graphs.size(); ++g) (g < 3 ? first : second).append(graphs[g]);
    GraphIndex index;
    for (const auto& g : graphs) index.add(g.n_nodes, g.n_edges(), g.event_id, g.section_id);
    const auto layout = create_graph_file_layout(dir / "many.h5", index, features());
    EXPECT_FALSE(std::filesystem::exists(dir / "many.h5"));  // not before it is published
    // In the other order than the file's, as ranks finish in any order.
    second.write_into(layout, first.index().num_nodes(), first.index().num_edges());
    first.write_into(layout, 0, 0);
    publish_graph_file(layout, dir / "many.h5");

    const auto one = GraphFile::open(dir / "one.h5");
    const auto many = GraphFile::open(dir / "many.h5");
    ASSERT_EQ(many.num_graphs(), 7);
    EXPECT_EQ(many.node_offsets(), one.node_offsets());
    EXPECT_EQ(many.edge_offsets(), one.edge_offsets());
    EXPECT_EQ(many.event_ids(), one.event_ids());
    EXPECT_EQ(many.section_ids(), one.section_ids());
    EXPECT_TRUE(many.features().same_as(one.features()));
    for (int64_t g = 0; g < 7; ++g) {
        const auto a = one.read_graph(g), b = many.read_graph(g);
        EXPECT_EQ(b.x, a.x) << g;
        EXPECT_EQ(b.senders, a.senders) << g;
        EXPECT_EQ(b.receivers, a.receivers) << g;
        EXPECT_EQ(b.y, a.y) << g;
        EXPECT_EQ(b.hit_id, a.hit_id) << g;
        EXPECT_EQ(b.particle_id, a.particle_id) << g;
        EXPECT_EQ(b.pt, a.pt) << g;
        EXPECT_EQ(b.volume_id, a.volume_id) << g;
        EXPECT_EQ(b.layer_id, a.layer_id) << g;
    }
}

INSTANTIATE_TEST_SUITE_P(SpillFolders, ParallelGraphFile, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "DevShm" : "BesideOutput"; });

TEST(ParallelGraphFileSpill, SpillFilesGoWithTheSpillAndAnUnpublishedFileIsNotThere) {
    TempDir dir;
    GraphIndex index;
    {
        GraphColumnSpill spill(dir / "spill0", 3);
        spill.append(random_graph(1, 0, 9, 20, 1));
        index = spill.index();
        EXPECT_EQ(index.num_nodes(), 9);
        EXPECT_FALSE(std::filesystem::is_empty(dir.path()));
        const auto layout = create_graph_file_layout(dir / "g.h5", index, features());
        EXPECT_TRUE(std::filesystem::exists(layout.tmp_path));
        std::filesystem::remove(layout.tmp_path);  // what prepare does when a rank fails
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

struct Corruption {
    std::string name;
    std::function<void(hid_t)> apply;
    std::vector<std::string> expected;  // substrings of the error line
};

class GraphFileCorruption : public ::testing::TestWithParam<Corruption> {};

TEST_P(GraphFileCorruption, GivesOneClearLineNamingFileDatasetAndGraph) {
    TempDir dir;
    const auto path = dir / "g.h5";
    write_sample(path);
    edit(path, GetParam().apply);
    const std::string msg = open_and_read_all_error(path);
    ASSERT_FALSE(msg.empty()) << "no error for " << GetParam().name;
    EXPECT_NE(msg.find(path.string()), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    for (const auto& s : GetParam().expected) EXPECT_NE(msg.find(s), std::string::npos) << msg;
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, GraphFileCorruption,
    ::testing::Values(
        Corruption{"missing_dataset",
                   [](hid_t f) { H5Ldelete(f, "receivers", H5P_DEFAULT); },
                   {"dataset 'receivers' is missing"}},
        Corruption{"wrong_dtype",
                   [](hid_t f) {
                       H5Ldelete(f, "y", H5P_DEFAULT);
                       hsize_t n[1] = {10};
                       hid_t s = H5Screate_simple(1, n, nullptr);
                       hid_t d = H5Dcreate2(f, "y", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT,
                                            H5P_DEFAULT);
                       H5Dclose(d);
                       H5Sclose(s);
                   },
                   {"dataset 'y' has the wrong type", "uint8"}},
        Corruption{
            "non_monotonic_offsets",
            [](hid_t f) { overwrite_element<int64_t>(f, "node_offsets", 2, 1, H5T_NATIVE_INT64); },
            {"'node_offsets' is not monotonic at graph 1"}},
        Corruption{"offsets_past_end",
                   [](hid_t f) {
                       overwrite_element<int64_t>(f, "edge_offsets", 5, 1000000, H5T_NATIVE_INT64);
                   },
                   {"'edge_offsets' ends at 1000000", "'senders'"}},
        Corruption{"node_index_outside_graph",
                   [](hid_t f) {
                       // Graph 1 starts at edge 30; its nodes are 0..16.
                       overwrite_element<int32_t>(f, "receivers", 31, 17, H5T_NATIVE_INT32);
                   },
                   {"dataset 'receivers', graph 1: edge 1 has node index 17"}},
        Corruption{"non_finite_feature",
                   [](hid_t f) { overwrite_element<float>(f, "x", 12, NAN, H5T_NATIVE_FLOAT); },
                   {"dataset 'x', graph 1: node 2 feature 0 is not finite"}},
        Corruption{"unknown_version",
                   [](hid_t f) {
                       int64_t v = 7;
                       hid_t a = H5Aopen(f, "version", H5P_DEFAULT);
                       H5Awrite(a, H5T_NATIVE_INT64, &v);
                       H5Aclose(a);
                   },
                   {"unknown schema version 7"}},
        Corruption{"length_mismatch",
                   [](hid_t f) {
                       H5Ldelete(f, "pt", H5P_DEFAULT);
                       hsize_t n[1] = {3};
                       hid_t s = H5Screate_simple(1, n, nullptr);
                       hid_t d = H5Dcreate2(f, "pt", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT,
                                            H5P_DEFAULT);
                       H5Dclose(d);
                       H5Sclose(s);
                   },
                   {"dataset 'pt' has 3 rows"}}),
    [](const auto& info) { return info.param.name; });

TEST(GraphFile, NonHdf5AndTruncatedFilesAreRejected) {
    TempDir dir;
    std::ofstream(dir / "text.h5") << "event_id,hit_id\n1,2\n";
    EXPECT_NE(open_and_read_all_error(dir / "text.h5").find("not an HDF5 file"), std::string::npos);
    write_sample(dir / "g.h5", 40);
    const auto size = std::filesystem::file_size(dir / "g.h5");
    std::filesystem::copy_file(dir / "g.h5", dir / "cut.h5");
    std::filesystem::resize_file(dir / "cut.h5", size / 2);
    const auto msg = open_and_read_all_error(dir / "cut.h5");
    EXPECT_FALSE(msg.empty());
    EXPECT_NE(msg.find("cut.h5"), std::string::npos) << msg;
    EXPECT_NE(open_and_read_all_error(dir / "missing.h5").find("no such file"), std::string::npos);
}
