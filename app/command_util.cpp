#include <CLI/CLI.hpp>

#include <cstdio>

#include "app/command.hpp"

namespace hepgnn::app {

void add_set_option(CLI::App& command, std::vector<std::string>& overrides) {
    command
        .add_option("--set", overrides,
                    "Override a config value, e.g. --set training.epochs=2 (repeatable)")
        ->type_name("KEY=VALUE")
        ->expected(1)
        ->take_all();
}

void say(const Context& ctx, const std::string& message) {
    if (!ctx.is_root()) return;
    std::printf("%s\n", message.c_str());
    std::fflush(stdout);
}

}  // namespace hepgnn::app
