// TrackML submissions (eventNNNNNNNNN-submission.csv, header
// event_id,hit_id,track_id) as `hepgnn infer` writes them and the TrackML
// challenge took them: finding them in a folder, reading them, and checking
// one against its event before it is scored (trackml_score.hpp).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace hepgnn::pipeline {

/// "event000001000-submission.csv" for event 1000.
std::string submission_file_name(int64_t event_id);

struct SubmissionFile {
    int64_t event_id = 0;  // from the file name
    std::filesystem::path path;
};

/// Every eventNNNNNNNNN-submission.csv in `dir` (the canonical 9-digit names
/// only), by ascending event id. Throws hepgnn::Error when `dir` is not a
/// folder or holds no submission.
std::vector<SubmissionFile> list_submissions(const std::filesystem::path& dir);

/// The rows of one submission file as written, one entry per data row.
/// Columns are found by header name (any order; extra columns are ignored).
struct SubmissionTable {
    std::string path;  // for messages
    std::vector<int64_t> event_id, hit_id, track_id;
    std::vector<int64_t> line;  // 1-based line of each row in the file
    size_t size() const { return hit_id.size(); }
};

/// Reads a submission CSV. Throws hepgnn::Error, naming the file and line,
/// for a missing file, a header without event_id, hit_id or track_id, a row
/// with the wrong number of fields, or a value that is not an integer.
SubmissionTable read_submission_csv(const std::filesystem::path& path);

// Note [Submission rules]: as in the TrackML challenge, a submission lists
// every hit of its event exactly once, and nothing else. A hit named twice, a
// hit the event does not have, a hit left out, or a row of another event is
// an error (never silently scored as unassigned), so a truncated or mixed-up
// file cannot pass for a poor reconstruction. Unassigned hits are written out
// like the others, e.g. as track 0 (Note [Track id 0] in trackml_score.hpp).

/// The track id of each hit of event `event_id`, in the order of `hit_ids`
/// (which must ascend, as TrackmlEvent::hits does), after checking `table`
/// against Note [Submission rules]. `hits_source` names where the hit ids
/// came from (the hits file), for messages. Throws hepgnn::Error naming the
/// submission file, line and hit id.
std::vector<int64_t> track_ids_per_hit(const SubmissionTable& table, int64_t event_id,
                                       const std::vector<int64_t>& hit_ids,
                                       const std::string& hits_source);

}  // namespace hepgnn::pipeline
