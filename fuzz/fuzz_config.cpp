// Config loading against the training, prepare and modulemap schemas, through
// to the components' own config structs (where cross-key checks live). The
// first input byte picks the schema; the rest is the YAML file.
#include "app/config_schemas.hpp"
#include "app/model_commands/training_config.hpp"
#include "core/config.hpp"
#include "fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace hepgnn;
    if (size == 0) return 0;
    const auto path = fuzz::write_input(
        "config.yaml", std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
    fuzz::expect_clean([&] {
        switch (data[0] % 3) {
            case 0: {
                const Config c = Config::load(app::training_schema(), path, {});
                app::trainer_config(c);
                app::model_config(c);
                break;
            }
            case 1:
                app::graph_builder_config(Config::load(app::prepare_schema(), path, {}));
                break;
            default:
                app::module_map_builder_config(Config::load(app::modulemap_schema(), path, {}));
                break;
        }
    });
    return 0;
}
