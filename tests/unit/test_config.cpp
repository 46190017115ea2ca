#include <gtest/gtest.h>

#include <fstream>

#include "app/config_schemas.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "test_util.hpp"

using hepgnn::Config;
using hepgnn::ConfigSchema;
using hepgnn::testing_util::TempDir;

namespace {

ConfigSchema schema() {
    ConfigSchema s;
    s.integer("training.epochs", 10, 1, 1000, "epochs");
    s.real("optimizer.learning_rate", 1e-3, 0.0, 1.0, "lr");
    s.text("model.name", "interaction_network", {"interaction_network", "agnn"}, "model");
    s.flag("model.layer_norm", true, "layer norm");
    s.real_list("eta_range", "[-5, 5]", "eta");
    s.required_text("data.train", "training file");
    return s;
}

std::string write(const TempDir& dir, const std::string& text) {
    const auto path = dir / "config.yaml";
    std::ofstream(path) << text;
    return path.string();
}

std::string error_of(const std::string& file, const std::vector<std::string>& sets) {
    try {
        Config::load(schema(), file, sets);
    } catch (const hepgnn::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(Config, DefaultsFileAndOverridesCombine) {
    TempDir dir;
    const auto file = write(dir, "data:\n  train: a.h5\ntraining:\n  epochs: 3\n");
    const auto cfg =
        Config::load(schema(), file, {"optimizer.learning_rate=0.01", "eta_range=[-2, 2]"});
    EXPECT_EQ(cfg.get_int("training.epochs"), 3);
    EXPECT_DOUBLE_EQ(cfg.get_float("optimizer.learning_rate"), 0.01);
    EXPECT_EQ(cfg.get_string("model.name"), "interaction_network");
    EXPECT_TRUE(cfg.get_bool("model.layer_norm"));
    EXPECT_EQ(cfg.get_float_list("eta_range"), (std::vector<double>{-2, 2}));
    EXPECT_EQ(cfg.get_string("data.train"), "a.h5");
}

TEST(Config, UnknownKeyNamesTheNearestValidKey) {
    TempDir dir;
    const auto file = write(dir, "data:\n  train: a.h5\ntraining:\n  epocs: 3\n");
    const auto msg = error_of(file, {});
    EXPECT_NE(msg.find("unknown key 'training.epocs'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean 'training.epochs'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("config.yaml:4"), std::string::npos) << msg;  // file and line
    const auto set_msg = error_of(file.substr(0, 0), {"data.train=x", "optimizer.learning_rat=1"});
    EXPECT_NE(set_msg.find("did you mean 'optimizer.learning_rate'"), std::string::npos) << set_msg;
}

TEST(Config, WrongTypeAndRangeNameTheKeyPath) {
    TempDir dir;
    EXPECT_NE(error_of(write(dir, "data: {train: a}\ntraining: {epochs: many}\n"), {})
                  .find("key 'training.epochs' must be an integer, got 'many'"),
              std::string::npos);
    EXPECT_NE(error_of("", {"data.train=a", "training.epochs=2.5"}).find("must be an integer"),
              std::string::npos);
    EXPECT_NE(error_of("", {"data.train=a", "training.epochs=0"}).find("below its minimum 1"),
              std::string::npos);
    EXPECT_NE(error_of("", {"data.train=a", "model.name=gcn"}).find("is not one of"),
              std::string::npos);
    EXPECT_NE(error_of("", {"data.train=a", "model.layer_norm=maybe"}).find("boolean"),
              std::string::npos);
    EXPECT_NE(error_of("", {}).find("required key 'data.train'"), std::string::npos);
    EXPECT_NE(error_of(write(dir, "data: [1, 2\n"), {}).find("invalid YAML"), std::string::npos);
}

TEST(Config, RoundTripsThroughYaml) {
    TempDir dir;
    const auto cfg = Config::load(schema(), "", {"data.train=x.h5", "training.epochs=7"});
    const auto again = Config::load(schema(), write(dir, cfg.to_yaml()), {});
    EXPECT_EQ(again.get_int("training.epochs"), 7);
    EXPECT_EQ(again.get_string("data.train"), "x.h5");
    EXPECT_EQ(again.get_float_list("eta_range"), cfg.get_float_list("eta_range"));
}

TEST(Config, PrepareSchemaFillsGraphBuilderConfig) {
    const auto cfg = Config::load(hepgnn::app::prepare_schema(), "",
                                  {"pt_min=1", "n_phi_sections=4", "eta_range=[-2, 2]"});
    const auto c = hepgnn::app::graph_builder_config(cfg);
    EXPECT_DOUBLE_EQ(c.pt_min, 1.0);
    EXPECT_EQ(c.n_phi_sections, 4);
    EXPECT_EQ(c.n_eta_sections, 2);
    EXPECT_DOUBLE_EQ(c.eta_range[1], 2.0);
    EXPECT_TRUE(c.feature_scale.empty());  // HEP.TrkX's scales unless set
    const auto scaled = hepgnn::app::graph_builder_config(
        Config::load(hepgnn::app::prepare_schema(), "", {"feature_scale=[1000, 0.04, 100]"}));
    EXPECT_EQ(scaled.feature_scale, (std::vector<double>{1000, 0.04, 100}));
    EXPECT_THROW(hepgnn::app::graph_builder_config(
                     Config::load(hepgnn::app::prepare_schema(), "", {"eta_range=[2, -2]"})),
                 hepgnn::Error);
}
