// Validated configuration: a schema of dotted keys (type, default, range,
// choices, one-line doc) checked against a YAML file plus `--set key=value`
// overrides. Unknown keys get an error naming the nearest valid key; wrong
// types and out-of-range values get an error with the key path. Only the
// config layer (app/) turns a Config into components' own Config structs.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace hepgnn {

class ConfigSchema {
public:
    enum class Type { kBool, kInt, kFloat, kString, kFloatList };
    struct Key {
        std::string path;  // "training.epochs"
        Type type = Type::kString;
        std::string default_value;  // as YAML text; "" with required = true
        bool required = false;
        std::optional<double> min, max;    // numbers (and each element of float lists)
        std::vector<std::string> choices;  // strings; empty = any
        std::string doc;
    };

    ConfigSchema& add(Key key);
    ConfigSchema& flag(std::string path, bool def, std::string doc);
    ConfigSchema& integer(std::string path, long def, std::optional<double> min,
                          std::optional<double> max, std::string doc);
    ConfigSchema& real(std::string path, double def, std::optional<double> min,
                       std::optional<double> max, std::string doc);
    ConfigSchema& text(std::string path, std::string def, std::vector<std::string> choices,
                       std::string doc);
    ConfigSchema& required_text(std::string path, std::string doc);
    ConfigSchema& real_list(std::string path, std::string def_yaml, std::string doc);

    const std::vector<Key>& keys() const { return keys_; }
    const Key* find(const std::string& path) const;
    /// The valid key closest in edit distance to `path` (for "did you mean").
    std::string nearest(const std::string& path) const;
    /// A table of keys, defaults and docs (for --help).
    std::string describe() const;

private:
    std::vector<Key> keys_;
};

class Config {
public:
    using Value = std::variant<bool, long, double, std::string, std::vector<double>>;

    /// Loads `yaml_file` (may be empty: defaults only), applies `overrides`
    /// ("a.b=value", YAML syntax for the value) and validates everything.
    /// Throws hepgnn::Error with the file and key path.
    static Config load(const ConfigSchema& schema, const std::string& yaml_file,
                       const std::vector<std::string>& overrides);

    bool get_bool(const std::string& path) const;
    long get_int(const std::string& path) const;
    double get_float(const std::string& path) const;
    const std::string& get_string(const std::string& path) const;
    const std::vector<double>& get_float_list(const std::string& path) const;
    /// Where the config came from ("file.yaml" or "defaults").
    const std::string& source() const { return source_; }
    /// Every value as YAML (saved beside outputs so a run can be reproduced).
    std::string to_yaml() const;

private:
    const Value& value(const std::string& path) const;
    std::map<std::string, Value> values_;
    std::string source_;
};

}  // namespace hepgnn
