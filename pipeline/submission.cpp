#include "pipeline/submission.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <system_error>

#include "core/error.hpp"
#include "core/text_file.hpp"
#include "data/trackml_csv.hpp"

namespace hepgnn::pipeline {

namespace fs = std::filesystem;

namespace {

constexpr std::string_view kSuffix = "-submission.csv";
constexpr const char* kHeader = "event_id,hit_id,track_id";

void split(std::string_view line, std::vector<std::string_view>& out) {
    out.clear();
    while (true) {
        const size_t comma = line.find(',');
        out.push_back(trim_blanks(line.substr(0, comma)));
        if (comma == std::string_view::npos) return;
        line.remove_prefix(comma + 1);
    }
}

/// An int64 from `text`; also an exactly integral float ("12.0"), which
/// tools that went through floating point (pandas with NaN) write.
bool parse_int(std::string_view text, int64_t& value) {
    if (!text.empty() && text.front() == '+') text.remove_prefix(1);
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec == std::errc() && ptr == end && !text.empty()) return true;
    double wide = 0;
    auto [wptr, wec] = std::from_chars(text.data(), end, wide);
    if (wec != std::errc() || wptr != end || !std::isfinite(wide) || wide != std::floor(wide) ||
        std::fabs(wide) >= 9.007199254740992e15) {  // beyond 2^53 a float is not exact
        return false;
    }
    value = static_cast<int64_t>(wide);
    return true;
}

}  // namespace

std::string submission_file_name(int64_t event_id) {
    return data::trackml_event_prefix(event_id) + std::string(kSuffix);
}

std::vector<SubmissionFile> list_submissions(const fs::path& dir) {
    std::error_code ec;
    HEPGNN_CHECK(fs::is_directory(dir, ec),
                 "submissions folder '{}' does not exist or is not a folder (pass the folder "
                 "holding the eventNNNNNNNNN-submission.csv files, e.g. 'hepgnn infer --out')",
                 dir.string());
    std::vector<SubmissionFile> files;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() <= 5 + kSuffix.size() || name.rfind("event", 0) != 0 ||
            name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
            continue;
        }
        const char* first = name.data() + 5;
        const char* last = name.data() + name.size() - kSuffix.size();
        int64_t id = -1;
        const auto [ptr, perr] = std::from_chars(first, last, id);
        // Only the canonical name, so one event cannot have two submissions.
        if (perr != std::errc() || ptr != last || id < 0 || name != submission_file_name(id))
            continue;
        files.push_back({id, entry.path()});
    }
    HEPGNN_CHECK(!ec, "cannot list submissions folder '{}': {}", dir.string(), ec.message());
    HEPGNN_CHECK(!files.empty(),
                 "'{}' holds no submissions (no eventNNNNNNNNN-submission.csv files with header "
                 "'{}'); pass the folder that 'hepgnn infer --out' wrote",
                 dir.string(), kHeader);
    std::sort(files.begin(), files.end(), [](const SubmissionFile& a, const SubmissionFile& b) {
        return a.event_id < b.event_id;
    });
    return files;
}

SubmissionTable read_submission_csv(const fs::path& path) {
    SubmissionTable table;
    table.path = path.string();
    const std::string text = read_text_file(path, "submission");
    size_t pos = text.compare(0, 3, "\xEF\xBB\xBF") == 0 ? 3 : 0;  // a UTF-8 byte order mark
    int64_t line_no = 0;
    auto next_line = [&](std::string_view& line) {
        while (pos < text.size()) {
            const size_t nl = text.find('\n', pos);
            const size_t end = nl == std::string::npos ? text.size() : nl;
            line = trim_blanks(std::string_view(text).substr(pos, end - pos));
            pos = end + 1;
            ++line_no;
            if (!line.empty()) return true;
        }
        return false;
    };

    std::string_view line;
    HEPGNN_CHECK(next_line(line),
                 "submission {} is empty (expected a header line '{}' and one row per hit)",
                 table.path, kHeader);
    std::vector<std::string_view> header, fields;
    split(line, header);
    auto column = [&](const char* name) {
        const auto it = std::find(header.begin(), header.end(), name);
        HEPGNN_CHECK(it != header.end(),
                     "submission {} line {}: header '{}' has no column '{}' (a TrackML submission "
                     "has the header '{}')",
                     table.path, line_no, shorten_for_message(line, 200), name, kHeader);
        HEPGNN_CHECK(std::find(it + 1, header.end(), name) == header.end(),
                     "submission {} line {}: column '{}' appears twice in the header (remove one)",
                     table.path, line_no, name);
        return static_cast<size_t>(it - header.begin());
    };
    const size_t event_col = column("event_id"), hit_col = column("hit_id"),
                 track_col = column("track_id");

    const auto rows = static_cast<size_t>(std::count(text.begin() + pos, text.end(), '\n')) + 1;
    table.event_id.reserve(rows);
    table.hit_id.reserve(rows);
    table.track_id.reserve(rows);
    table.line.reserve(rows);
    while (next_line(line)) {
        split(line, fields);
        HEPGNN_CHECK(fields.size() == header.size(),
                     "submission {} line {}: has {} fields but the header has {} columns (the file "
                     "may be truncated or corrupt; write it again)",
                     table.path, line_no, fields.size(), header.size());
        int64_t value[3] = {0, 0, 0};
        const size_t cols[3] = {event_col, hit_col, track_col};
        const char* names[3] = {"event_id", "hit_id", "track_id"};
        for (int k = 0; k < 3; ++k) {
            HEPGNN_CHECK(parse_int(fields[cols[k]], value[k]),
                         "submission {} line {}: {} '{}' is not an integer (fix or write the file "
                         "again)",
                         table.path, line_no, names[k], shorten_for_message(fields[cols[k]]));
        }
        table.event_id.push_back(value[0]);
        table.hit_id.push_back(value[1]);
        table.track_id.push_back(value[2]);
        table.line.push_back(line_no);
    }
    return table;
}

std::vector<int64_t> track_ids_per_hit(const SubmissionTable& table, int64_t event_id,
                                       const std::vector<int64_t>& hit_ids,
                                       const std::string& hits_source) {
    HEPGNN_INTERNAL_CHECK(std::is_sorted(hit_ids.begin(), hit_ids.end()),
                          "hit ids of event {} are not sorted", event_id);
    std::vector<int64_t> track_id(hit_ids.size(), 0);
    std::vector<int64_t> line_of(hit_ids.size(), 0);  // 0: not listed yet
    for (size_t r = 0; r < table.size(); ++r) {
        HEPGNN_CHECK(table.event_id[r] == event_id,
                     "submission {} line {}: event_id {} but the file is the submission of event "
                     "{} (each eventNNNNNNNNN-submission.csv holds only its own event's rows; "
                     "split mixed files by event)",
                     table.path, table.line[r], table.event_id[r], event_id);
        const int64_t hit = table.hit_id[r];
        const auto it = std::lower_bound(hit_ids.begin(), hit_ids.end(), hit);
        HEPGNN_CHECK(it != hit_ids.end() && *it == hit,
                     "submission {} line {}: hit_id {} is not a hit of event {} ({} has no such "
                     "hit); the submission must come from this event's hits",
                     table.path, table.line[r], hit, event_id, hits_source);
        const auto i = static_cast<size_t>(it - hit_ids.begin());
        HEPGNN_CHECK(line_of[i] == 0,
                     "submission {} line {}: hit_id {} is listed again (first on line {}); "
                     "TrackML submissions assign each hit to exactly one track",
                     table.path, table.line[r], hit, line_of[i]);
        line_of[i] = table.line[r];
        track_id[i] = table.track_id[r];
    }
    if (table.size() != hit_ids.size()) {  // all rows are distinct event hits: some are missing
        const auto first = std::find(line_of.begin(), line_of.end(), 0) - line_of.begin();
        HEPGNN_FAIL(
            "submission {} lists {} of the {} hits of event {} ({}): {} missing, the first is "
            "hit_id {}; TrackML submissions list every hit (write unassigned hits too, e.g. with "
            "track_id 0)",
            table.path, table.size(), hit_ids.size(), event_id, hits_source,
            hit_ids.size() - table.size(), hit_ids[first]);
    }
    return track_id;
}

}  // namespace hepgnn::pipeline
