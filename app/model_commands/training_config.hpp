// The config layer for training (STYLE §2): the schema of `hepgnn train`
// configs and its mapping onto trainer::TrainerConfig. Separate from
// config_schemas.hpp so torch-free code need not include model headers.
#pragma once

#include "core/config.hpp"
#include "trainer/trainer.hpp"

namespace hepgnn::app {

/// `hepgnn train` / `bench` config (DESIGN §3.1).
ConfigSchema training_schema();
trainer::TrainerConfig trainer_config(const Config& config);
models::ModelConfig model_config(const Config& config);

}  // namespace hepgnn::app
