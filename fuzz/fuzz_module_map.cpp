// The module-map reader (JSON written by 'hepgnn modulemap').
#include "data/module_map.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace hepgnn;
    const auto path =
        fuzz::write_input("map.json", std::string_view(reinterpret_cast<const char*>(data), size));
    fuzz::expect_clean([&] {
        const auto map = data::ModuleMap::read(path);
        map.validate("fuzzed map");  // what the builder's output must pass, too
    });
    return 0;
}
