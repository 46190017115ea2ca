// The TrackML CSV reader: hits, particles, and hits + truth of one event
// (the first input byte picks which; a truth input carries its hits table
// before a "\n====\n" line).
#include "data/trackml_csv.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace hepgnn;
    if (size == 0) return 0;
    const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
    switch (data[0] % 3) {
        case 0: {
            const auto path = fuzz::write_input("event000000001-hits.csv", in);
            fuzz::expect_clean([&] { data::read_trackml_hits(path); });
            break;
        }
        case 1: {
            const auto path = fuzz::write_input("particles.csv", in);
            fuzz::expect_clean([&] { data::read_trackml_particles(path); });
            break;
        }
        default: {
            const auto [hits, truth] = fuzz::split_input(in, "\n====\n");
            fuzz::write_input("event000000002-hits.csv", hits);
            fuzz::write_input("event000000002-truth.csv", truth);
            fuzz::expect_clean([&] { data::read_trackml_event(fuzz::scratch_dir(), 2, false); });
            break;
        }
    }
    return 0;
}
