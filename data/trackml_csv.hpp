// Reading and writing TrackML-format CSV events
// (eventNNNNNNNNN-{hits,truth,particles}.csv), so simulated and real TrackML
// events go through the same path.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "data/trackml_event.hpp"

namespace hepgnn::data {

/// "event000001000" for event 1000.
std::string trackml_event_prefix(int64_t event_id);

/// Event ids of every eventNNNNNNNNN-hits.csv in `dir`, ascending; with
/// max_events > 0 only the first max_events of them (a command's --max-events).
/// Throws hepgnn::Error if `dir` is missing or holds no events.
std::vector<int64_t> list_trackml_events(const std::filesystem::path& dir, int64_t max_events = 0);

/// Reads hits and truth (and particles when `with_particles`).
/// Errors name the file and line.
TrackmlEvent read_trackml_event(const std::filesystem::path& dir, int64_t event_id,
                                bool with_particles = true);

/// Reads hits only (the input of `infer`, which has no truth).
std::vector<Hit> read_trackml_hits(const std::filesystem::path& file);

/// Reads a particles table (e.g. a real TrackML event's, to drive the simulator).
std::vector<Particle> read_trackml_particles(const std::filesystem::path& file);

/// Writes the three CSV files. Each is written to a temporary name and renamed,
/// so a reader never sees a half-written table.
void write_trackml_event(const std::filesystem::path& dir, const TrackmlEvent& event);

}  // namespace hepgnn::data
