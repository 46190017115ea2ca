// The config layer (STYLE §2): the schemas of hepgnn's YAML configs and the
// functions that turn a validated Config into components' Config structs.
// Components never read YAML themselves.
#pragma once

#include "core/config.hpp"
#include "data/graph_builder.hpp"
#include "data/module_map_builder.hpp"

namespace hepgnn::app {

/// `hepgnn prepare` config: top-level keys (DESIGN §3.1).
ConfigSchema prepare_schema();
data::GraphBuilder::Config graph_builder_config(const Config& config);

/// `hepgnn modulemap` config: top-level keys.
ConfigSchema modulemap_schema();
data::ModuleMapBuilder::Config module_map_builder_config(const Config& config);

}  // namespace hepgnn::app
