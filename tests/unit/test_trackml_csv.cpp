#include "data/trackml_csv.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "core/error.hpp"
#include "test_util.hpp"

namespace hepgnn::data {
namespace {

using testing_util::error_of;
using testing_util::TempDir;

namespace fs = std::filesystem;

void write_text(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary);
    out << text;
    ASSERT_TRUE(out.good()) << file;
}

bool same_bits(float a, float b) {
    return std::memcmp(&a, &b, sizeof a) == 0;
}

TrackmlEvent random_event(int64_t event_id, int n_hits, int n_particles) {
    std::mt19937_64 rng(12345);
    // Values over many magnitudes: mm positions up to 3000, tiny momenta, exponents.
    std::uniform_real_distribution<float> pos(-3000.f, 3000.f);
    std::uniform_real_distribution<float> log_mag(-8.f, 3.f);
    std::uniform_int_distribution<int64_t> big_id(1, (int64_t{1} << 62));
    auto signed_mag = [&] {
        const float v = std::pow(10.f, log_mag(rng));
        return (rng() & 1) ? v : -v;
    };
    TrackmlEvent event;
    event.event_id = event_id;
    for (int i = 0; i < n_particles; ++i) {
        Particle p;
        p.particle_id = big_id(rng);
        p.vx = signed_mag();
        p.vy = signed_mag();
        p.vz = pos(rng);
        p.px = signed_mag();
        p.py = signed_mag();
        p.pz = signed_mag();
        p.q = (rng() & 1) ? 1 : -1;
        p.nhits = static_cast<int32_t>(rng() % 20);
        event.particles.push_back(p);
    }
    for (int i = 0; i < n_hits; ++i) {
        Hit h;
        h.hit_id = 1 + 3 * i;  // ascending, not contiguous
        h.x = pos(rng);
        h.y = pos(rng);
        h.z = pos(rng);
        h.volume_id = static_cast<int32_t>(7 + rng() % 12);
        h.layer_id = static_cast<int32_t>(2 * (1 + rng() % 7));
        h.module_id = static_cast<int32_t>(1 + rng() % 3000);
        event.hits.push_back(h);
        TruthHit t;
        t.hit_id = h.hit_id;
        t.particle_id = (rng() % 10 == 0) ? 0 : event.particles[rng() % n_particles].particle_id;
        t.tx = h.x + signed_mag();
        t.ty = h.y;
        t.tz = h.z;
        t.tpx = signed_mag();
        t.tpy = signed_mag();
        t.tpz = signed_mag();
        t.weight = std::pow(10.f, log_mag(rng)) * 1e-3f;
        event.truth.push_back(t);
    }
    return event;
}

TEST(TrackmlCsv, EventPrefixHasNineDigits) {
    EXPECT_EQ(trackml_event_prefix(1000), "event000001000");
    EXPECT_EQ(trackml_event_prefix(0), "event000000000");
    EXPECT_NE(error_of([] { trackml_event_prefix(-1); }).find("negative"), std::string::npos);
}

TEST(TrackmlCsv, RoundTripIsBitExact) {
    TempDir dir;
    const TrackmlEvent in = random_event(42, 5000, 700);
    write_trackml_event(dir.path(), in);
    for (const char* table : {"hits", "truth", "particles"}) {
        EXPECT_TRUE(fs::exists(dir.path() / fmt::format("event000000042-{}.csv", table)));
    }
    for (const auto& entry : fs::directory_iterator(dir.path())) {
        EXPECT_NE(entry.path().extension(), ".tmp") << "temporary file left behind";
    }

    const TrackmlEvent out = read_trackml_event(dir.path(), 42);
    EXPECT_EQ(out.event_id, 42);
    ASSERT_EQ(out.hits.size(), in.hits.size());
    ASSERT_EQ(out.truth.size(), in.truth.size());
    ASSERT_EQ(out.particles.size(), in.particles.size());
    for (size_t i = 0; i < in.hits.size(); ++i) {
        const Hit &a = in.hits[i], &b = out.hits[i];
        ASSERT_EQ(a.hit_id, b.hit_id);
        ASSERT_TRUE(same_bits(a.x, b.x) && same_bits(a.y, b.y) && same_bits(a.z, b.z))
            << "hit " << i << ": " << a.x << " " << b.x;
        ASSERT_EQ(a.volume_id, b.volume_id);
        ASSERT_EQ(a.layer_id, b.layer_id);
        ASSERT_EQ(a.module_id, b.module_id);
        const TruthHit &ta = in.truth[i], &tb = out.truth[i];
        ASSERT_EQ(ta.hit_id, tb.hit_id);
        ASSERT_EQ(ta.particle_id, tb.particle_id);
        ASSERT_TRUE(same_bits(ta.tx, tb.tx) && same_bits(ta.ty, tb.ty) && same_bits(ta.tz, tb.tz));
        ASSERT_TRUE(same_bits(ta.tpx, tb.tpx) && same_bits(ta.tpy, tb.tpy) &&
                    same_bits(ta.tpz, tb.tpz));
        ASSERT_TRUE(same_bits(ta.weight, tb.weight)) << ta.weight << " " << tb.weight;
    }
    for (size_t i = 0; i < in.particles.size(); ++i) {
        const Particle &a = in.particles[i], &b = out.particles[i];
        ASSERT_EQ(a.particle_id, b.particle_id);
        ASSERT_TRUE(same_bits(a.vx, b.vx) && same_bits(a.vy, b.vy) && same_bits(a.vz, b.vz));
        ASSERT_TRUE(same_bits(a.px, b.px) && same_bits(a.py, b.py) && same_bits(a.pz, b.pz));
        ASSERT_EQ(a.q, b.q);
        ASSERT_EQ(a.nhits, b.nhits);
    }

    // Rewriting over existing files works and still reads back the same.
    write_trackml_event(dir.path(), in);
    EXPECT_EQ(read_trackml_hits(dir.path() / "event000000042-hits.csv").size(), in.hits.size());
}

TEST(TrackmlCsv, ColumnsAreFoundByName) {
    TempDir dir;
    const fs::path file = dir.path() / "event000000001-hits.csv";
    // Shuffled columns, an extra column, spaces, CRLF, blank lines, no final newline.
    write_text(file,
               "module_id, z ,extra,layer_id,y,volume_id,x,hit_id\r\n"
               "7,-1500.25,foo,4,2.5e1,8,-31.9990005,1\r\n"
               "\r\n"
               "12,3.0,bar,6,+4,13,1019.5,2");
    const std::vector<Hit> hits = read_trackml_hits(file);
    ASSERT_EQ(hits.size(), 2u);
    EXPECT_EQ(hits[0].hit_id, 1);
    EXPECT_FLOAT_EQ(hits[0].x, -31.9990005f);
    EXPECT_FLOAT_EQ(hits[0].y, 25.f);
    EXPECT_FLOAT_EQ(hits[0].z, -1500.25f);
    EXPECT_EQ(hits[0].volume_id, 8);
    EXPECT_EQ(hits[0].layer_id, 4);
    EXPECT_EQ(hits[0].module_id, 7);
    EXPECT_EQ(hits[1].hit_id, 2);
    EXPECT_FLOAT_EQ(hits[1].y, 4.f);
    EXPECT_EQ(hits[1].module_id, 12);
}

TEST(TrackmlCsv, IntegersWrittenAsFloatsAreAccepted) {
    TempDir dir;
    const fs::path file = dir.path() / "p.csv";
    write_text(file,
               "particle_id,vx,vy,vz,px,py,pz,q,nhits\n"
               "4503668346847232,0,0,0,1,2,3,-1.0,8.0\n");
    const std::vector<Particle> particles = read_trackml_particles(file);
    ASSERT_EQ(particles.size(), 1u);
    EXPECT_EQ(particles[0].particle_id, 4503668346847232);
    EXPECT_EQ(particles[0].q, -1);
    EXPECT_EQ(particles[0].nhits, 8);
    write_text(file, "particle_id,vx,vy,vz,px,py,pz,q,nhits\n5,0,0,0,1,2,3,-1.5,8\n");
    const std::string message = error_of([&] { read_trackml_particles(file); });
    EXPECT_NE(message.find("line 2: cannot parse 'q' value '-1.5' (expected an integer"),
              std::string::npos)
        << message;
}

std::string hits_csv_with_bad_line_17() {
    std::string text = "hit_id,x,y,z,volume_id,layer_id,module_id\n";
    for (int i = 1; i <= 20; ++i) {
        // Line i + 1 holds hit i, so hit 16 is on line 17.
        text += fmt::format("{},{},1.5,2.5,8,2,{}\n", i, i == 16 ? "abc" : "31.5", i);
    }
    return text;
}

TEST(TrackmlCsv, BadNumberNamesFileLineColumnAndValue) {
    TempDir dir;
    const fs::path file = dir.path() / "event000000001-hits.csv";
    write_text(file, hits_csv_with_bad_line_17());
    const std::string message = error_of([&] { read_trackml_hits(file); });
    EXPECT_NE(message.find("event000000001-hits.csv line 17: cannot parse 'x' value 'abc' "
                           "(expected a number"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << "error must be one line: " << message;
}

TEST(TrackmlCsv, NonFiniteAndOverflowingNumbersAreRejected) {
    TempDir dir;
    const fs::path file = dir.path() / "h.csv";
    write_text(file, "hit_id,x,y,z,volume_id,layer_id,module_id\n1,nan,0,0,8,2,1\n");
    EXPECT_NE(
        error_of([&] { read_trackml_hits(file); }).find("line 2: cannot parse 'x' value 'nan'"),
        std::string::npos);
    write_text(file, "hit_id,x,y,z,volume_id,layer_id,module_id\n1,0,1e60,0,8,2,1\n");
    EXPECT_NE(error_of([&] { read_trackml_hits(file); }).find("'y' value '1e60'"),
              std::string::npos);
    write_text(file, "hit_id,x,y,z,volume_id,layer_id,module_id\n1,0,0,0,8,99999999999,1\n");
    EXPECT_NE(error_of([&] { read_trackml_hits(file); }).find("fits in 32 bits"),
              std::string::npos);
    // Values too small for a float are zero, not errors.
    write_text(file, "hit_id,x,y,z,volume_id,layer_id,module_id\n1,1e-60,0,0,8,2,1\n");
    EXPECT_EQ(read_trackml_hits(file).at(0).x, 0.f);
}

TEST(TrackmlCsv, MissingColumnIsNamed) {
    TempDir dir;
    const fs::path file = dir.path() / "event000000003-hits.csv";
    write_text(file, "hit_id,x,y,volume_id,layer_id,module_id\n1,2,3,8,2,1\n");
    const std::string message = error_of([&] { read_trackml_hits(file); });
    EXPECT_NE(message.find("event000000003-hits.csv line 1: header has no column 'z'"),
              std::string::npos)
        << message;
}

TEST(TrackmlCsv, WrongFieldCountNamesLine) {
    TempDir dir;
    const fs::path file = dir.path() / "h.csv";
    write_text(file,
               "hit_id,x,y,z,volume_id,layer_id,module_id\n"
               "1,2,3,4,8,2,1\n"
               "2,2,3,4,8,2\n");
    const std::string message = error_of([&] { read_trackml_hits(file); });
    EXPECT_NE(message.find("h.csv line 3: has 6 fields but the header has 7 columns"),
              std::string::npos)
        << message;
}

TEST(TrackmlCsv, EmptyFileAndDuplicateHeaderAreRejected) {
    TempDir dir;
    const fs::path file = dir.path() / "h.csv";
    write_text(file, "\n\n");
    EXPECT_NE(error_of([&] { read_trackml_hits(file); }).find("h.csv is empty"), std::string::npos);
    write_text(file, "hit_id,x,x,y,z,volume_id,layer_id,module_id\n");
    EXPECT_NE(error_of([&] { read_trackml_hits(file); }).find("column 'x' appears twice"),
              std::string::npos);
}

TEST(TrackmlCsv, UnsortedHitIdsAreRejected) {
    TempDir dir;
    const fs::path file = dir.path() / "h.csv";
    write_text(file,
               "hit_id,x,y,z,volume_id,layer_id,module_id\n"
               "1,0,0,0,8,2,1\n3,0,0,0,8,2,1\n2,0,0,0,8,2,1\n");
    const std::string message = error_of([&] { read_trackml_hits(file); });
    EXPECT_NE(message.find("line 4: hit_id 2 follows hit_id 3"), std::string::npos) << message;
}

TEST(TrackmlCsv, DuplicateParticleIdNamesBothLines) {
    TempDir dir;
    const fs::path file = dir.path() / "p.csv";
    write_text(file,
               "particle_id,vx,vy,vz,px,py,pz,q,nhits\n"
               "10,0,0,0,1,0,0,1,3\n11,0,0,0,1,0,0,1,3\n10,0,0,0,1,0,0,1,3\n");
    const std::string message = error_of([&] { read_trackml_particles(file); });
    EXPECT_NE(message.find("p.csv line 4: particle_id 10 already appeared on line 2"),
              std::string::npos)
        << message;
}

TEST(TrackmlCsv, TruthMustListTheSameHitsInOrder) {
    TempDir dir;
    TrackmlEvent event = random_event(5, 10, 3);
    write_trackml_event(dir.path(), event);
    const fs::path truth_file = dir.path() / "event000000005-truth.csv";

    // Swap two truth rows (data rows 3 and 4 are on lines 4 and 5).
    std::swap(event.truth[2], event.truth[3]);
    write_trackml_event(dir.path(), event);
    std::string message = error_of([&] { read_trackml_event(dir.path(), 5); });
    EXPECT_NE(message.find(fmt::format("event000000005-truth.csv line 4: hit_id {} but data row "
                                       "3 of",
                                       event.truth[2].hit_id)),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("event000000005-hits.csv"), std::string::npos) << message;
    std::swap(event.truth[2], event.truth[3]);

    // A truth file with a row missing.
    write_trackml_event(dir.path(), event);
    std::ifstream in(truth_file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    text.erase(text.rfind('\n', text.size() - 2) + 1);
    write_text(truth_file, text);
    message = error_of([&] { read_trackml_event(dir.path(), 5); });
    EXPECT_NE(message.find("event000000005-truth.csv has 9 rows but"), std::string::npos)
        << message;
    EXPECT_NE(message.find("has 10 hits"), std::string::npos) << message;
}

TEST(TrackmlCsv, MissingTableIsNamedAndParticlesAreOptional) {
    TempDir dir;
    const TrackmlEvent event = random_event(9, 20, 4);
    write_trackml_event(dir.path(), event);
    fs::remove(dir.path() / "event000000009-particles.csv");
    const TrackmlEvent no_particles = read_trackml_event(dir.path(), 9, false);
    EXPECT_EQ(no_particles.hits.size(), 20u);
    EXPECT_TRUE(no_particles.particles.empty());
    std::string message = error_of([&] { read_trackml_event(dir.path(), 9); });
    EXPECT_NE(message.find("cannot open '" +
                           (dir.path() / "event000000009-particles.csv").string() + "'"),
              std::string::npos)
        << message;
    fs::remove(dir.path() / "event000000009-truth.csv");
    message = error_of([&] { read_trackml_event(dir.path(), 9, false); });
    EXPECT_NE(message.find("event000000009-truth.csv"), std::string::npos) << message;
}

TEST(TrackmlCsv, WriteRejectsTruthOfWrongLength) {
    TempDir dir;
    TrackmlEvent event = random_event(1, 10, 2);
    event.truth.pop_back();
    const std::string message = error_of([&] { write_trackml_event(dir.path(), event); });
    EXPECT_NE(message.find("10 hits but 9 truth rows"), std::string::npos) << message;
}

TEST(TrackmlCsv, ListsEventsAscending) {
    TempDir dir;
    for (const char* name : {"event000000010-hits.csv", "event000000002-hits.csv",
                             "event000000002-truth.csv", "event000000007-particles.csv",
                             "event3-hits.csv", "notes.txt", "event000000004-hits.csv.tmp"}) {
        write_text(dir.path() / name, "x\n");
    }
    EXPECT_EQ(list_trackml_events(dir.path()), (std::vector<int64_t>{2, 10}));
}

TEST(TrackmlCsv, ListingExplainsMissingOrEmptyDirectory) {
    TempDir dir;
    std::string message = error_of([&] { list_trackml_events(dir.path() / "nope"); });
    EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
    write_text(dir.path() / "event000000001-hits.csv.gz", "x");
    message = error_of([&] { list_trackml_events(dir.path()); });
    EXPECT_NE(message.find("holds no TrackML events"), std::string::npos) << message;
    EXPECT_NE(message.find("gunzip"), std::string::npos) << message;
}

TEST(TrackmlCsv, ReadsRealTrackmlParticleTable) {
    const fs::path file = fs::path(HEPGNN_TRACKML_DATA_DIR) / "event000001000-particles.csv";
    ASSERT_TRUE(fs::exists(file)) << file << " is missing; it is committed in share/trackml/";
    const std::vector<Particle> particles = read_trackml_particles(file);
    ASSERT_EQ(particles.size(), 12263u);
    // First row: 4503668346847232,-0.00928816,0.00986098,-0.0778789,-0.0552689,0.323272,
    //            -0.203492,-1,8
    const Particle& p = particles[0];
    EXPECT_EQ(p.particle_id, 4503668346847232);
    EXPECT_FLOAT_EQ(p.vx, -0.00928816f);
    EXPECT_FLOAT_EQ(p.vz, -0.0778789f);
    EXPECT_FLOAT_EQ(p.py, 0.323272f);
    EXPECT_FLOAT_EQ(p.pz, -0.203492f);
    EXPECT_EQ(p.q, -1);
    EXPECT_EQ(p.nhits, 8);
    int64_t total_hits = 0;
    for (const Particle& q : particles) total_hits += q.nhits;
    EXPECT_EQ(total_hits, 103305);
}

}  // namespace
}  // namespace hepgnn::data
