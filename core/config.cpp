#include "core/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>

#include "core/error.hpp"
#include "core/text_file.hpp"

namespace hepgnn {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            cur[j] = std::min(
                {prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        }
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

const char* type_name(ConfigSchema::Type t) {
    switch (t) {
        case ConfigSchema::Type::kBool:
            return "a boolean (true/false)";
        case ConfigSchema::Type::kInt:
            return "an integer";
        case ConfigSchema::Type::kFloat:
            return "a number";
        case ConfigSchema::Type::kString:
            return "a string";
        case ConfigSchema::Type::kFloatList:
            return "a list of numbers";
    }
    return "?";
}

std::string format_number(double v) {
    std::ostringstream os;
    os << v;
    return os.str();
}

Config::Value convert(const ConfigSchema::Key& key, const YAML::Node& node,
                      const std::string& where) {
    const auto bad = [&](const std::string& got) -> Error {
        return Error(fmt::format("{}: key '{}' must be {}, got '{}'", where, key.path,
                                 type_name(key.type), shorten_for_message(got)));
    };
    const auto check_range = [&](double v) {
        if (key.min && v < *key.min)
            throw Error(fmt::format("{}: key '{}' = {} is below its minimum {}", where, key.path,
                                    format_number(v), format_number(*key.min)));
        if (key.max && v > *key.max)
            throw Error(fmt::format("{}: key '{}' = {} is above its maximum {}", where, key.path,
                                    format_number(v), format_number(*key.max)));
    };
    const auto to_double = [&](const YAML::Node& n) -> double {
        if (!n.IsScalar()) throw bad("a " + std::string(n.IsMap() ? "map" : "list"));
        double v = 0;
        if (!YAML::convert<double>::decode(n, v) || !std::isfinite(v)) throw bad(n.Scalar());
        return v;
    };

    if (key.type == ConfigSchema::Type::kFloatList) {
        if (!node.IsSequence()) throw bad(node.IsScalar() ? node.Scalar() : "a map");
        std::vector<double> out;
        for (const auto& item : node) {
            out.push_back(to_double(item));
            check_range(out.back());
        }
        return out;
    }
    if (!node.IsScalar()) throw bad(node.IsMap() ? "a map" : "a list");
    const std::string text = node.Scalar();
    switch (key.type) {
        case ConfigSchema::Type::kBool: {
            bool v = false;
            if (!YAML::convert<bool>::decode(node, v)) throw bad(text);
            return v;
        }
        case ConfigSchema::Type::kInt: {
            long v = 0;
            size_t used = 0;
            try {
                v = std::stol(text, &used);
            } catch (...) {
                throw bad(text);
            }
            if (used != text.size()) throw bad(text);
            check_range(static_cast<double>(v));
            return v;
        }
        case ConfigSchema::Type::kFloat: {
            const double v = to_double(node);
            check_range(v);
            return v;
        }
        case ConfigSchema::Type::kString: {
            if (!key.choices.empty() &&
                std::find(key.choices.begin(), key.choices.end(), text) == key.choices.end()) {
                std::string list;
                for (const auto& c : key.choices) list += (list.empty() ? "" : ", ") + c;
                throw Error(fmt::format("{}: key '{}' = '{}' is not one of: {}", where, key.path,
                                        shorten_for_message(text), list));
            }
            return text;
        }
        default:
            break;
    }
    throw bad(text);
}

void flatten(const YAML::Node& node, const std::string& prefix,
             std::vector<std::pair<std::string, YAML::Node>>& out, const ConfigSchema& schema) {
    // A map is a section unless the schema has a leaf at this path.
    if (node.IsMap() && (prefix.empty() || !schema.find(prefix))) {
        for (const auto& item : node) {
            if (!item.first.IsScalar())
                throw Error(fmt::format("{}: a key that is a {} (keys are names, e.g. 'epochs')",
                                        prefix.empty() ? "top level" : "section '" + prefix + "'",
                                        item.first.IsMap() ? "map" : "list"));
            const std::string name = item.first.Scalar();
            flatten(item.second, prefix.empty() ? name : prefix + "." + name, out, schema);
        }
        return;
    }
    out.emplace_back(prefix, node);
}

}  // namespace

ConfigSchema& ConfigSchema::add(Key key) {
    HEPGNN_INTERNAL_CHECK(!find(key.path), "config key '{}' declared twice", key.path);
    keys_.push_back(std::move(key));
    return *this;
}

ConfigSchema& ConfigSchema::flag(std::string path, bool def, std::string doc) {
    return add(
        {std::move(path), Type::kBool, def ? "true" : "false", false, {}, {}, {}, std::move(doc)});
}
ConfigSchema& ConfigSchema::integer(std::string path, long def, std::optional<double> min,
                                    std::optional<double> max, std::string doc) {
    return add(
        {std::move(path), Type::kInt, std::to_string(def), false, min, max, {}, std::move(doc)});
}
ConfigSchema& ConfigSchema::real(std::string path, double def, std::optional<double> min,
                                 std::optional<double> max, std::string doc) {
    return add(
        {std::move(path), Type::kFloat, format_number(def), false, min, max, {}, std::move(doc)});
}
ConfigSchema& ConfigSchema::text(std::string path, std::string def,
                                 std::vector<std::string> choices, std::string doc) {
    return add({std::move(path),
                Type::kString,
                std::move(def),
                false,
                {},
                {},
                std::move(choices),
                std::move(doc)});
}
ConfigSchema& ConfigSchema::required_text(std::string path, std::string doc) {
    return add({std::move(path), Type::kString, "", true, {}, {}, {}, std::move(doc)});
}
ConfigSchema& ConfigSchema::real_list(std::string path, std::string def_yaml, std::string doc) {
    return add({std::move(path),
                Type::kFloatList,
                std::move(def_yaml),
                false,
                {},
                {},
                {},
                std::move(doc)});
}

const ConfigSchema::Key* ConfigSchema::find(const std::string& path) const {
    for (const auto& k : keys_)
        if (k.path == path) return &k;
    return nullptr;
}

std::string ConfigSchema::nearest(const std::string& path) const {
    std::string best;
    size_t best_d = static_cast<size_t>(-1);
    for (const auto& k : keys_) {
        // Compare against the full path and, for a bare name, the last part.
        size_t d = edit_distance(path, k.path);
        const auto dot = k.path.rfind('.');
        if (path.find('.') == std::string::npos && dot != std::string::npos)
            d = std::min(d, edit_distance(path, k.path.substr(dot + 1)) + 1);
        if (d < best_d) {
            best_d = d;
            best = k.path;
        }
    }
    return best;
}

std::string ConfigSchema::describe() const {
    std::ostringstream os;
    size_t width = 0;
    for (const auto& k : keys_) width = std::max(width, k.path.size());
    for (const auto& k : keys_) {
        os << "  " << k.path << std::string(width - k.path.size() + 2, ' ') << k.doc;
        if (k.required)
            os << " (required)";
        else
            os << " [" << k.default_value << "]";
        if (!k.choices.empty()) {
            os << " {";
            for (size_t i = 0; i < k.choices.size(); ++i) os << (i ? "|" : "") << k.choices[i];
            os << "}";
        }
        os << "\n";
    }
    return os.str();
}

Config Config::load(const ConfigSchema& schema, const std::string& yaml_file,
                    const std::vector<std::string>& overrides) {
    Config cfg;
    cfg.source_ = yaml_file.empty() ? "defaults" : yaml_file;
    std::map<std::string, std::pair<YAML::Node, std::string>> given;  // path -> (node, where)

    if (!yaml_file.empty()) {
        HEPGNN_CHECK(std::filesystem::exists(yaml_file), "config file '{}' does not exist",
                     yaml_file);
        YAML::Node root;
        try {
            root = YAML::LoadFile(yaml_file);
        } catch (const YAML::Exception& e) {
            HEPGNN_FAIL("{}: invalid YAML at line {}, column {}: {}", yaml_file, e.mark.line + 1,
                        e.mark.column + 1, shorten_for_message(e.msg, 200));
        }
        if (!root.IsNull()) {
            HEPGNN_CHECK(root.IsMap(), "{}: the top level must be a map of keys", yaml_file);
            std::vector<std::pair<std::string, YAML::Node>> flat;
            try {
                flatten(root, "", flat, schema);
            } catch (const Error& e) {
                HEPGNN_FAIL("{}: {}", yaml_file, e.what());
            }
            for (auto& [path, node] : flat) {
                const std::string where =
                    node.Mark().is_null() ? yaml_file
                                          : fmt::format("{}:{}", yaml_file, node.Mark().line + 1);
                HEPGNN_CHECK(schema.find(path), "{}: unknown key '{}' (did you mean '{}'?)", where,
                             shorten_for_message(path), schema.nearest(path));
                given[path] = {node, where};
            }
        }
    }
    for (const auto& item : overrides) {
        const auto eq = item.find('=');
        HEPGNN_CHECK(eq != std::string::npos && eq > 0,
                     "--set '{}': expected section.key=value, e.g. --set training.epochs=2", item);
        const std::string path = item.substr(0, eq);
        HEPGNN_CHECK(schema.find(path), "--set: unknown key '{}' (did you mean '{}'?)",
                     shorten_for_message(path), schema.nearest(path));
        YAML::Node node;
        try {
            node = YAML::Load(item.substr(eq + 1));
        } catch (const YAML::Exception& e) {
            HEPGNN_FAIL("--set {}: value is not valid YAML: {}", shorten_for_message(item),
                        shorten_for_message(e.msg, 200));
        }
        if (node.IsNull()) node = YAML::Node(std::string());
        given[path] = {node, "--set " + path};
    }
    for (const auto& key : schema.keys()) {
        auto it = given.find(key.path);
        if (it == given.end()) {
            HEPGNN_CHECK(!key.required, "{}: required key '{}' is missing ({})", cfg.source_,
                         key.path, key.doc);
            const YAML::Node node = key.type == ConfigSchema::Type::kString
                                        ? YAML::Node(key.default_value)
                                        : YAML::Load(key.default_value);
            cfg.values_[key.path] = convert(key, node, "defaults");
        } else {
            cfg.values_[key.path] = convert(key, it->second.first, it->second.second);
        }
    }
    return cfg;
}

const Config::Value& Config::value(const std::string& path) const {
    auto it = values_.find(path);
    HEPGNN_INTERNAL_CHECK(it != values_.end(), "config key '{}' is not in the schema", path);
    return it->second;
}

template <typename T>
static const T& typed(const Config::Value& v, const std::string& path) {
    const T* p = std::get_if<T>(&v);
    HEPGNN_INTERNAL_CHECK(p != nullptr, "config key '{}' read with the wrong type", path);
    return *p;
}

bool Config::get_bool(const std::string& path) const {
    return typed<bool>(value(path), path);
}
long Config::get_int(const std::string& path) const {
    return typed<long>(value(path), path);
}
double Config::get_float(const std::string& path) const {
    return typed<double>(value(path), path);
}
const std::string& Config::get_string(const std::string& path) const {
    return typed<std::string>(value(path), path);
}
const std::vector<double>& Config::get_float_list(const std::string& path) const {
    return typed<std::vector<double>>(value(path), path);
}

namespace {

struct YamlTree {
    std::map<std::string, YamlTree> children;
    const Config::Value* leaf = nullptr;
};

void emit(YAML::Emitter& out, const YamlTree& node) {
    if (node.leaf) {
        std::visit(
            [&](const auto& v) {
                using T = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<T, std::vector<double>>) {
                    out << YAML::Flow << YAML::BeginSeq;
                    for (double d : v) out << d;
                    out << YAML::EndSeq;
                } else {
                    out << v;
                }
            },
            *node.leaf);
        return;
    }
    out << YAML::BeginMap;
    for (const auto& [name, child] : node.children) {
        out << YAML::Key << name << YAML::Value;
        emit(out, child);
    }
    out << YAML::EndMap;
}

}  // namespace

std::string Config::to_yaml() const {
    YamlTree root;
    for (const auto& [path, v] : values_) {
        YamlTree* node = &root;
        std::stringstream ss(path);
        for (std::string part; std::getline(ss, part, '.');) node = &node->children[part];
        node->leaf = &v;
    }
    YAML::Emitter out;
    out.SetDoublePrecision(17);
    emit(out, root);
    return std::string(out.c_str()) + "\n";
}

}  // namespace hepgnn
