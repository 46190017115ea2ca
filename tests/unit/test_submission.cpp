// Reading TrackML submissions and checking them against their event
// (Note [Submission rules]): every bad case is one error naming the file,
// the line and the hit.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "pipeline/submission.hpp"
#include "test_util.hpp"

using namespace hepgnn::pipeline;
using hepgnn::testing_util::error_of;
using hepgnn::testing_util::TempDir;

namespace {

std::filesystem::path write(const TempDir& dir, const std::string& name, const std::string& text) {
    const auto path = dir / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

const std::vector<int64_t> kHits = {2, 3, 5, 8};  // an event's hit ids, ascending

}  // namespace

TEST(Submission, ReadsRowsInAnyOrderAndAssignsThemToTheEventsHits) {
    TempDir dir;
    // Columns reordered, an extra column, a byte order mark, CRLF, blank
    // lines, spaces, a '+' and an integral float as pandas may write them.
    const auto path = write(dir, "s.csv",
                            "\xEF\xBB\xBFtrack_id,hit_id,event_id,score\r\n"
                            "7,5,1000,0.5\r\n"
                            "\r\n"
                            " 0 , 2 ,1000,1\n"
                            "-4,8,+1000,1\n"
                            "9.0,3,1000,1\n");
    const auto table = read_submission_csv(path);
    ASSERT_EQ(table.size(), 4u);
    EXPECT_EQ(table.line, (std::vector<int64_t>{2, 4, 5, 6}));
    EXPECT_EQ(table.hit_id, (std::vector<int64_t>{5, 2, 8, 3}));
    EXPECT_EQ(track_ids_per_hit(table, 1000, kHits, "hits.csv"),
              (std::vector<int64_t>{0, 9, 7, -4}));  // in the order of kHits
}

TEST(Submission, BadRowsAreOneErrorNamingFileLineAndHit) {
    TempDir dir;
    auto check = [&](const std::string& rows, const std::string& want) {
        const auto path =
            write(dir, "event000001000-submission.csv", "event_id,hit_id,track_id\n" + rows);
        const std::string e = error_of(
            [&] { track_ids_per_hit(read_submission_csv(path), 1000, kHits, "ev-hits.csv"); });
        EXPECT_TRUE(contains(e, path.string())) << e;
        EXPECT_TRUE(contains(e, want)) << "wanted '" << want << "' in: " << e;
        EXPECT_EQ(e.find('\n'), std::string::npos) << e;
    };
    // A hit the event does not have.
    check("1000,2,1\n1000,4,1\n1000,3,1\n1000,5,1\n1000,8,1\n",
          "line 3: hit_id 4 is not a hit of event 1000 (ev-hits.csv has no such hit)");
    // A hit listed twice.
    check("1000,2,1\n1000,3,1\n1000,2,5\n1000,5,1\n1000,8,1\n",
          "line 4: hit_id 2 is listed again (first on line 2)");
    // Hits left out (Note [Submission rules]: an error, not unassigned).
    check("1000,2,1\n1000,8,1\n",
          "lists 2 of the 4 hits of event 1000 (ev-hits.csv): 2 missing, the first is hit_id 3");
    // A row of another event.
    check("1000,2,1\n1001,3,1\n1000,5,1\n1000,8,1\n",
          "line 3: event_id 1001 but the file is the submission of event 1000");
    // Malformed lines.
    check("1000,2,1\n1000,3\n", "line 3: has 2 fields but the header has 3 columns");
    check("1000,2,1\n1000,x3,1\n", "line 3: hit_id 'x3' is not an integer");
    check("1000,2,1.5\n", "line 2: track_id '1.5' is not an integer");
    check("1000,2,\n", "line 2: track_id '' is not an integer");
}

TEST(Submission, BadFilesAreOneErrorNamingTheFile) {
    TempDir dir;
    auto error = [&](const std::string& text) {
        const auto path = write(dir, "s.csv", text);
        return error_of([&] { read_submission_csv(path); });
    };
    EXPECT_TRUE(contains(error("hit_id,track_id\n1,2\n"),
                         "line 1: header 'hit_id,track_id' has no column 'event_id'"));
    EXPECT_TRUE(contains(error("event_id,hit_id,track_id,hit_id\n"), "'hit_id' appears twice"));
    EXPECT_TRUE(contains(error("\n\n"), "is empty"));
    EXPECT_TRUE(contains(error_of([&] { read_submission_csv(dir / "nope.csv"); }),
                         "cannot open submission '" + (dir / "nope.csv").string()));
}

TEST(Submission, ListsCanonicalSubmissionFilesByEvent) {
    TempDir dir;
    for (const char* name :
         {"event000000012-submission.csv", "event000000003-submission.csv", "event3-submission.csv",
          "event000000004-hits.csv", "timing.json", "event000000005-submission.csv.tmp"})
        write(dir, name, "");
    const auto files = list_submissions(dir.path());
    ASSERT_EQ(files.size(), 2u);
    EXPECT_EQ(files[0].event_id, 3);
    EXPECT_EQ(files[1].event_id, 12);
    EXPECT_EQ(files[1].path, dir / "event000000012-submission.csv");
    EXPECT_EQ(submission_file_name(12), "event000000012-submission.csv");

    TempDir empty;
    write(empty, "event3-submission.csv", "");
    EXPECT_TRUE(contains(error_of([&] { list_submissions(empty.path()); }),
                         "holds no submissions (no eventNNNNNNNNN-submission.csv files"));
    EXPECT_TRUE(contains(error_of([&] { list_submissions(empty / "missing"); }),
                         "does not exist or is not a folder"));
}
