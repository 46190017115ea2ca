#include "data/trackml_csv.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>
#include <system_error>
#include <unordered_map>

#include "core/atomic_file.hpp"
#include "core/error.hpp"
#include "core/text_file.hpp"

namespace hepgnn::data {

namespace fs = std::filesystem;

namespace {

// Note [CSV parsing]
// Events hold 100k+ hits, so a table is read with one read() into a buffer
// and parsed in place: lines and fields are string_views, numbers go through
// std::from_chars (no locale, no iostream state, exact float round trip).
// Columns are found by header name, so column order may vary and extra
// columns are ignored. Every error names the file and line.

struct Column {
    size_t index;
    const char* name;
};

class CsvReader {
public:
    // `expected_header` is only used in messages (to tell the user what a file should look like).
    CsvReader(const fs::path& path, const char* expected_header)
        : path_(path.string()), text_(read_text_file(path)), expected_header_(expected_header) {
        std::string_view header_line;
        // Skip a UTF-8 byte order mark some spreadsheet tools write.
        if (text_.compare(0, 3, "\xEF\xBB\xBF") == 0) pos_ = 3;
        while (header_line.empty() && pos_ < text_.size()) header_line = trim_blanks(take_line());
        HEPGNN_CHECK(!header_line.empty(),
                     "{} is empty (expected a header line '{}' and one row per entry)", path_,
                     expected_header);
        header_line_ = line_;
        split(header_line, header_);
        for (size_t i = 0; i < header_.size(); ++i) {
            header_[i] = trim_blanks(header_[i]);
            for (size_t j = 0; j < i; ++j) {
                HEPGNN_CHECK(header_[i] != header_[j],
                             "{} line {}: column '{}' appears twice in the header (remove one)",
                             path_, line_, shorten_for_message(header_[i]));
            }
        }
    }

    const std::string& path() const { return path_; }
    int64_t line() const { return line_; }

    /// Upper bound on the number of data rows, for reserve().
    size_t max_rows() const {
        return static_cast<size_t>(std::count(text_.begin() + pos_, text_.end(), '\n')) + 1;
    }

    Column column(const char* name) const {
        for (size_t i = 0; i < header_.size(); ++i) {
            if (header_[i] == name) return {i, name};
        }
        HEPGNN_FAIL("{} line {}: header has no column '{}' (expected columns '{}', found '{}')",
                    path_, header_line_, name, expected_header_,
                    shorten_for_message(join(header_), 200));
    }

    /// Moves to the next non-blank line; false at the end of the file.
    bool next_row() {
        std::string_view line;
        while (line.empty()) {
            if (pos_ >= text_.size()) return false;
            line = take_line();
            if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        }
        split(line, fields_);
        HEPGNN_CHECK(fields_.size() == header_.size(),
                     "{} line {}: has {} fields but the header has {} columns (the file may be "
                     "truncated or corrupt; regenerate it)",
                     path_, line_, fields_.size(), header_.size());
        return true;
    }

    float get_float(Column c) const {
        const std::string_view text = field(c);
        float value = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc() && ptr == text.data() + text.size()) {
            if (!std::isfinite(value)) bad_value(c, text, "a finite number");
            return value;
        }
        if (ec == std::errc::result_out_of_range && ptr == text.data() + text.size()) {
            // Too small for a float (e.g. 1e-50) rounds to zero; too large is an error.
            double wide = 0;
            std::from_chars(text.data(), text.data() + text.size(), wide);
            if (std::fabs(wide) < 1.0) return static_cast<float>(wide);
            bad_value(c, text, "a number within the range of a 32-bit float");
        }
        bad_value(c, text, "a number");
    }

    template <typename Int>
    Int get_int(Column c) const {
        const std::string_view text = field(c);
        Int value = 0;
        const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
        if (ec == std::errc() && ptr == text.data() + text.size()) return value;
        // Some tools write integer columns as floats ("8.0"); accept exact integers.
        double wide = 0;
        const auto [wptr, wec] = std::from_chars(text.data(), text.data() + text.size(), wide);
        if (wec == std::errc() && wptr == text.data() + text.size() && std::isfinite(wide) &&
            wide == std::floor(wide) &&
            wide >= static_cast<double>(std::numeric_limits<Int>::min()) &&
            wide < -static_cast<double>(std::numeric_limits<Int>::min())) {
            return static_cast<Int>(wide);
        }
        bad_value(c, text,
                  ec == std::errc::result_out_of_range
                      ? fmt::format("an integer that fits in {} bits", 8 * sizeof(Int))
                      : std::string("an integer"));
    }

private:
    std::string_view take_line() {
        const char* begin = text_.data() + pos_;
        const void* nl = std::memchr(begin, '\n', text_.size() - pos_);
        const size_t len = nl ? static_cast<const char*>(nl) - begin : text_.size() - pos_;
        pos_ += nl ? len + 1 : len;  // never past the end (a last line without '\n')
        ++line_;
        return {begin, len};
    }

    static void split(std::string_view line, std::vector<std::string_view>& out) {
        out.clear();
        while (true) {
            const void* comma = std::memchr(line.data(), ',', line.size());
            if (comma == nullptr) {
                out.push_back(line);
                return;
            }
            const size_t len = static_cast<const char*>(comma) - line.data();
            out.push_back(line.substr(0, len));
            line.remove_prefix(len + 1);
        }
    }

    std::string_view field(Column c) const {
        std::string_view text = trim_blanks(fields_[c.index]);
        if (!text.empty() && text.front() == '+') text.remove_prefix(1);  // from_chars rejects '+'
        return text;
    }

    [[noreturn]] void bad_value(Column c, std::string_view text, const std::string& what) const {
        HEPGNN_FAIL(
            "{} line {}: cannot parse '{}' value '{}' (expected {}; fix or regenerate "
            "the file)",
            path_, line_, c.name, shorten_for_message(text), what);
    }

    static std::string join(const std::vector<std::string_view>& names) {
        std::string out;
        for (const auto& n : names) {
            if (!out.empty()) out += ',';
            out += n;
        }
        return out;
    }

    std::string path_;
    std::string text_;
    const char* expected_header_;
    size_t pos_ = 0;
    int64_t line_ = 0;
    int64_t header_line_ = 0;
    std::vector<std::string_view> header_;
    std::vector<std::string_view> fields_;
};

constexpr const char* kHitsHeader = "hit_id,x,y,z,volume_id,layer_id,module_id";
constexpr const char* kTruthHeader = "hit_id,particle_id,tx,ty,tz,tpx,tpy,tpz,weight";
constexpr const char* kParticlesHeader = "particle_id,vx,vy,vz,px,py,pz,q,nhits";

fs::path table_path(const fs::path& dir, int64_t event_id, const char* table) {
    return dir / (trackml_event_prefix(event_id) + "-" + table + ".csv");
}

std::vector<TruthHit> read_truth(const fs::path& file, const std::vector<Hit>& hits,
                                 const fs::path& hits_file) {
    CsvReader csv(file, kTruthHeader);
    const Column hit_id = csv.column("hit_id"), particle_id = csv.column("particle_id");
    const Column tx = csv.column("tx"), ty = csv.column("ty"), tz = csv.column("tz");
    const Column tpx = csv.column("tpx"), tpy = csv.column("tpy"), tpz = csv.column("tpz");
    const Column weight = csv.column("weight");

    std::vector<TruthHit> truth;
    truth.reserve(hits.size());
    while (csv.next_row()) {
        TruthHit t;
        t.hit_id = csv.get_int<int64_t>(hit_id);
        const size_t row = truth.size();
        HEPGNN_CHECK(row < hits.size(),
                     "{} line {}: has more rows than {} has hits ({}); the truth file must list "
                     "the same hits in the same order (regenerate the event)",
                     csv.path(), csv.line(), hits_file.string(), hits.size());
        HEPGNN_CHECK(t.hit_id == hits[row].hit_id,
                     "{} line {}: hit_id {} but data row {} of {} has hit_id {}; the truth file "
                     "must list the same hits in the same order (regenerate the event)",
                     csv.path(), csv.line(), t.hit_id, row + 1, hits_file.string(),
                     hits[row].hit_id);
        t.particle_id = csv.get_int<int64_t>(particle_id);
        t.tx = csv.get_float(tx);
        t.ty = csv.get_float(ty);
        t.tz = csv.get_float(tz);
        t.tpx = csv.get_float(tpx);
        t.tpy = csv.get_float(tpy);
        t.tpz = csv.get_float(tpz);
        t.weight = csv.get_float(weight);
        truth.push_back(t);
    }
    HEPGNN_CHECK(truth.size() == hits.size(),
                 "{} has {} rows but {} has {} hits; the truth file must list the same hits in "
                 "the same order (regenerate the event)",
                 csv.path(), truth.size(), hits_file.string(), hits.size());
    return truth;
}

// Writes `text` as the whole table at `path` (core/atomic_file.hpp), so a
// reader never sees a half-written table.
void write_atomically(const fs::path& path, const fmt::memory_buffer& text) {
    write_file_atomically(path, std::string_view(text.data(), text.size()), "event table");
}

}  // namespace

std::string trackml_event_prefix(int64_t event_id) {
    HEPGNN_CHECK(event_id >= 0, "event id {} is negative (TrackML event ids are 0 or greater)",
                 event_id);
    return fmt::format("event{:09d}", event_id);
}

std::vector<int64_t> list_trackml_events(const fs::path& dir, int64_t max_events) {
    std::error_code ec;
    HEPGNN_CHECK(fs::is_directory(dir, ec),
                 "input directory '{}' does not exist or is not a directory (pass the directory "
                 "holding the eventNNNNNNNNN-hits.csv files)",
                 dir.string());
    constexpr std::string_view kPrefix = "event", kSuffix = "-hits.csv";
    std::vector<int64_t> ids;
    bool saw_gzip = false;
    for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.size() > kSuffix.size() + 3 && name.compare(name.size() - 3, 3, ".gz") == 0 &&
            name.find("-hits.csv") != std::string::npos) {
            saw_gzip = true;
        }
        if (name.size() <= kPrefix.size() + kSuffix.size() || name.rfind(kPrefix, 0) != 0 ||
            name.compare(name.size() - kSuffix.size(), kSuffix.size(), kSuffix) != 0) {
            continue;
        }
        const char* first = name.data() + kPrefix.size();
        const char* last = name.data() + name.size() - kSuffix.size();
        int64_t id = -1;
        const auto [ptr, perr] = std::from_chars(first, last, id);
        // Only the canonical 9-digit name, which is the one read_trackml_event opens.
        if (perr != std::errc() || ptr != last || id < 0 ||
            name != trackml_event_prefix(id) + std::string(kSuffix)) {
            continue;
        }
        ids.push_back(id);
    }
    HEPGNN_CHECK(!ec, "cannot list directory '{}': {}", dir.string(), ec.message());
    HEPGNN_CHECK(!ids.empty(),
                 "'{}' holds no TrackML events (no eventNNNNNNNNN-hits.csv files{}); point to a "
                 "TrackML sample or create events with 'hepgnn simulate --out {}'",
                 dir.string(), saw_gzip ? "; gzip-compressed files must be gunzipped first" : "",
                 dir.string());
    std::sort(ids.begin(), ids.end());
    if (max_events > 0 && static_cast<int64_t>(ids.size()) > max_events)
        ids.resize(static_cast<size_t>(max_events));
    return ids;
}

std::vector<Hit> read_trackml_hits(const fs::path& file) {
    CsvReader csv(file, kHitsHeader);
    const Column hit_id = csv.column("hit_id");
    const Column x = csv.column("x"), y = csv.column("y"), z = csv.column("z");
    const Column volume_id = csv.column("volume_id"), layer_id = csv.column("layer_id");
    const Column module_id = csv.column("module_id");

    std::vector<Hit> hits;
    hits.reserve(csv.max_rows());
    while (csv.next_row()) {
        Hit h;
        h.hit_id = csv.get_int<int64_t>(hit_id);
        // Downstream code relies on TrackmlEvent::hits being ordered by hit_id.
        HEPGNN_CHECK(hits.empty() || h.hit_id > hits.back().hit_id,
                     "{} line {}: hit_id {} follows hit_id {} (hits must be sorted by hit_id, "
                     "ascending and without repeats; sort the file)",
                     csv.path(), csv.line(), h.hit_id, hits.back().hit_id);
        h.x = csv.get_float(x);
        h.y = csv.get_float(y);
        h.z = csv.get_float(z);
        h.volume_id = csv.get_int<int32_t>(volume_id);
        h.layer_id = csv.get_int<int32_t>(layer_id);
        h.module_id = csv.get_int<int32_t>(module_id);
        hits.push_back(h);
    }
    return hits;
}

std::vector<Particle> read_trackml_particles(const fs::path& file) {
    CsvReader csv(file, kParticlesHeader);
    const Column particle_id = csv.column("particle_id");
    const Column vx = csv.column("vx"), vy = csv.column("vy"), vz = csv.column("vz");
    const Column px = csv.column("px"), py = csv.column("py"), pz = csv.column("pz");
    const Column q = csv.column("q"), nhits = csv.column("nhits");

    std::vector<Particle> particles;
    particles.reserve(csv.max_rows());
    std::unordered_map<int64_t, int64_t> line_of_id;  // to name both lines of a repeated id
    line_of_id.reserve(csv.max_rows());
    while (csv.next_row()) {
        Particle p;
        p.particle_id = csv.get_int<int64_t>(particle_id);
        const auto [it, inserted] = line_of_id.emplace(p.particle_id, csv.line());
        HEPGNN_CHECK(inserted,
                     "{} line {}: particle_id {} already appeared on line {} (particle ids must "
                     "be unique; fix or regenerate the file)",
                     csv.path(), csv.line(), p.particle_id, it->second);
        p.vx = csv.get_float(vx);
        p.vy = csv.get_float(vy);
        p.vz = csv.get_float(vz);
        p.px = csv.get_float(px);
        p.py = csv.get_float(py);
        p.pz = csv.get_float(pz);
        p.q = csv.get_int<int32_t>(q);
        p.nhits = csv.get_int<int32_t>(nhits);
        particles.push_back(p);
    }
    return particles;
}

TrackmlEvent read_trackml_event(const fs::path& dir, int64_t event_id, bool with_particles) {
    TrackmlEvent event;
    event.event_id = event_id;
    const fs::path hits_file = table_path(dir, event_id, "hits");
    event.hits = read_trackml_hits(hits_file);
    event.truth = read_truth(table_path(dir, event_id, "truth"), event.hits, hits_file);
    if (with_particles)
        event.particles = read_trackml_particles(table_path(dir, event_id, "particles"));
    return event;
}

void write_trackml_event(const fs::path& dir, const TrackmlEvent& event) {
    HEPGNN_CHECK(event.truth.size() == event.hits.size(),
                 "cannot write event {}: it has {} hits but {} truth rows (they must match one "
                 "to one)",
                 event.event_id, event.hits.size(), event.truth.size());
    std::error_code ec;
    fs::create_directories(dir, ec);
    HEPGNN_CHECK(!ec, "cannot create output directory '{}': {} (check the path and permissions)",
                 dir.string(), ec.message());

    // fmt's "{}" prints a float with the fewest digits that read back to the
    // same float, so a written event reads back bit for bit.
    fmt::memory_buffer out;
    out.reserve(event.hits.size() * 48);
    fmt::format_to(std::back_inserter(out), "{}\n", kHitsHeader);
    for (const Hit& h : event.hits) {
        fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{}\n", h.hit_id, h.x, h.y, h.z,
                       h.volume_id, h.layer_id, h.module_id);
    }
    write_atomically(table_path(dir, event.event_id, "hits"), out);

    out.clear();
    fmt::format_to(std::back_inserter(out), "{}\n", kTruthHeader);
    for (const TruthHit& t : event.truth) {
        fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{}\n", t.hit_id,
                       t.particle_id, t.tx, t.ty, t.tz, t.tpx, t.tpy, t.tpz, t.weight);
    }
    write_atomically(table_path(dir, event.event_id, "truth"), out);

    out.clear();
    fmt::format_to(std::back_inserter(out), "{}\n", kParticlesHeader);
    for (const Particle& p : event.particles) {
        fmt::format_to(std::back_inserter(out), "{},{},{},{},{},{},{},{},{}\n", p.particle_id, p.vx,
                       p.vy, p.vz, p.px, p.py, p.pz, p.q, p.nhits);
    }
    write_atomically(table_path(dir, event.event_id, "particles"), out);
}

}  // namespace hepgnn::data
