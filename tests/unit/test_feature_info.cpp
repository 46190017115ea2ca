#include <gtest/gtest.h>

#include "core/error.hpp"
#include "data/feature_info.hpp"

using hepgnn::data::check_features_match;
using hepgnn::data::FeatureInfo;

namespace {
const FeatureInfo kHepTrkx{{"r", "phi", "z"}, {1000.0f, 0.3926991f, 1000.0f}};
const FeatureInfo kDemo{{"r", "phi", "z"}, {1000.0f, 0.0392699f, 100.0f}};

std::string error_of(const FeatureInfo& model, const FeatureInfo& data) {
    try {
        check_features_match(model, "checkpoint 'a.ckpt'", data, "'b.h5'");
    } catch (const hepgnn::Error& e) {
        return e.what();
    }
    return "";
}
}  // namespace

TEST(FeatureInfo, JsonRoundTripKeepsNamesAndScales) {
    const auto back = FeatureInfo::from_json(kDemo.to_json(), "test");
    EXPECT_EQ(back.names, kDemo.names);
    EXPECT_EQ(back.scale, kDemo.scale);  // float -> JSON double -> float is exact
    EXPECT_TRUE(back.same_as(kDemo));
    EXPECT_EQ(kDemo.describe(), "r/1000, phi/0.0392699, z/100");
    EXPECT_THROW(FeatureInfo::from_json("{\"names\": [\"r\"], \"scale\": []}", "x"), hepgnn::Error);
    EXPECT_THROW(FeatureInfo::from_json("not json", "x"), hepgnn::Error);
}

TEST(FeatureInfo, MismatchNamesBothSidesAndUnknownPasses) {
    EXPECT_EQ(error_of(kDemo, kDemo), "");
    EXPECT_EQ(error_of(FeatureInfo{}, kDemo), "");  // a checkpoint from before features were kept
    const std::string e = error_of(kHepTrkx, kDemo);
    EXPECT_NE(e.find("checkpoint 'a.ckpt' was trained on features r/1000, phi/0.3926991, z/1000"),
              std::string::npos)
        << e;
    EXPECT_NE(e.find("'b.h5' holds r/1000, phi/0.0392699, z/100"), std::string::npos) << e;
    FeatureInfo renamed = kDemo;
    renamed.names[2] = "eta";
    EXPECT_FALSE(renamed.same_as(kDemo));
}
