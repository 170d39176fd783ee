#include "messages/value.hpp"

namespace infermesh {

const value* value::find(std::string_view key) const {
  const auto* map = get_if<value_map>();
  if (map == nullptr) return nullptr;
  for (const auto& [k, v] : *map)
    if (k == key) return &v;
  return nullptr;
}

bool value::as_double(double& out) const {
  if (const auto* i = get_if<std::int64_t>()) {
    out = static_cast<double>(*i);
    return true;
  }
  if (const auto* d = get_if<double>()) {
    out = *d;
    return true;
  }
  return false;
}

std::string_view type_name(const value& v) {
  static constexpr std::string_view names[] = {"null", "bool", "integer", "float", "string", "bytes", "array", "map"};
  return names[v.data.index()];
}

}  // namespace infermesh
