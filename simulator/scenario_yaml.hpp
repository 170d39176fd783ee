#pragma once
/// Internal to the scenario parser (scenario.cpp: the file, cluster, workload, steady state; scenario_faults.cpp:
/// the fault timeline and its kind table): the YAML readers they share, each throwing `scenario_error` with the key.

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "messages/subjects.hpp"
#include "simulator/scenario.hpp"

namespace infermesh::sim::scenario_yaml {

/// Thrown inside the scenario parser only; parse_scenario turns it into a `bad_request` naming the key.
struct scenario_error {
  std::string key;
  std::string message;
};

inline std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
inline std::string at_index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

inline std::string list_of(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

inline std::string scalar_text(const YAML::Node& n) { return n.IsScalar() ? n.as<std::string>() : "(not a scalar)"; }

inline void require_map(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) throw scenario_error{path, "must be a map"};
}

inline void allow_keys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known) {
  require_map(map, path);
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw scenario_error{join(path, key), "unknown key (known here: " + list_of(known) + ")"};
  }
}

inline bool present(const YAML::Node& map, const char* key) { return map[key] && !map[key].IsNull(); }

inline std::string text(const YAML::Node& map, const std::string& path, const char* key, const std::string& fallback) {
  if (!present(map, key)) return fallback;
  const auto n = map[key];
  if (!n.IsScalar() || n.as<std::string>().empty()) throw scenario_error{join(path, key), "must be a non-empty string"};
  return n.as<std::string>();
}

inline long long integer(const YAML::Node& n, const std::string& key, long long min, long long max) {
  long long v = 0;
  if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v) || v < min || v > max)
    throw scenario_error{key, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max) + ", got '" +
                                  scalar_text(n) + "'"};
  return v;
}

inline double number(const YAML::Node& map, const std::string& path, const char* key, double min, double max,
              bool min_excluded) {
  const auto n = map[key];
  double v = 0;
  const auto plain = [](double d) {  // 1000000, not the stream's 1e+06
    std::ostringstream o;
    if (d == std::floor(d) && std::abs(d) < 1e15) o << static_cast<long long>(d);
    else o << d;
    return o.str();
  };
  std::ostringstream range;
  range << (min_excluded ? "> " : ">= ") << plain(min) << " and <= " << plain(max);
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v) || v < min || v > max ||
      (min_excluded && v == min))
    throw scenario_error{join(path, key), "must be a number " + range.str() + ", got '" + scalar_text(n) + "'"};
  return v;
}

inline bool boolean(const YAML::Node& n, const std::string& key) {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
    throw scenario_error{key, "must be true or false, got '" + scalar_text(n) + "'"};
  return v;
}

/// The longest duration a scenario may write: a month keeps every sum of them far from overflow.
inline constexpr long long max_duration_ms = 30LL * 24 * 3600 * 1000;

inline millis duration_at(const YAML::Node& n, const std::string& key, millis min) {
  const auto d = n.IsScalar() ? parse_duration(n.as<std::string>()) : std::nullopt;
  if (!d) throw scenario_error{key, "must be a duration (\"90s\", \"500ms\", \"2m\", \"1h\" or a number of ms), got '" +
                                        scalar_text(n) + "'"};
  if (*d < min) throw scenario_error{key, "must be at least " + std::to_string(min.count()) + " ms"};
  if (d->count() > max_duration_ms) throw scenario_error{key, "must be at most 30 days"};
  return *d;
}

inline millis duration(const YAML::Node& map, const std::string& path, const char* key, millis fallback, millis min) {
  if (!present(map, key)) return fallback;
  return duration_at(map[key], join(path, key), min);
}

template <class T>
T choice(const YAML::Node& map, const std::string& path, const char* key, T fallback,
         std::initializer_list<std::pair<const char*, T>> names) {
  if (!present(map, key)) return fallback;
  const auto given = scalar_text(map[key]);
  std::vector<std::string> list;
  for (const auto& [name, v] : names) {
    if (given == name) return v;
    list.emplace_back(name);
  }
  throw scenario_error{join(path, key), "must be one of " + list_of(list) + ", got '" + given + "'"};
}

inline std::string known_op(const YAML::Node& n, const std::string& key) {
  const auto op = scalar_text(n);
  if (!n.IsScalar() || !wire::is_op(op))
    throw scenario_error{key, "unknown op '" + op + "' (ops: classify, ocr, extract, process)"};
  return op;
}

/// One fault or group of the `faults:` list at `path` (scenario_faults.cpp).
fault_spec parse_fault(const YAML::Node& n, const std::string& path, const cluster_spec& cluster);
/// Every fault kind with its one-line description (scenario_faults.cpp).
std::vector<std::pair<std::string, std::string>> kind_table();

}  // namespace infermesh::sim::scenario_yaml
