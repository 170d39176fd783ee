#pragma once
/// `value`: the dynamic tree both wire encodings (msgpack, JSON) decode into and encode from, so requests and
/// replies are read and written by one code path whatever the encoding. Maps keep insertion order.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "messages/shared_bytes.hpp"

namespace infermesh {

struct value;
using value_array = std::vector<value>;
using value_map = std::vector<std::pair<std::string, value>>;

struct value {
  using storage =
      std::variant<std::monostate, bool, std::int64_t, double, std::string, shared_bytes, value_array, value_map>;
  storage data;

  value() = default;
  value(bool b) : data(b) {}                                   // NOLINT: implicit to build trees tersely
  value(int i) : data(std::int64_t{i}) {}                      // NOLINT
  value(std::int64_t i) : data(i) {}                           // NOLINT
  value(double d) : data(d) {}                                 // NOLINT
  value(std::string s) : data(std::move(s)) {}                 // NOLINT
  value(const char* s) : data(std::string(s)) {}               // NOLINT
  value(shared_bytes b) : data(std::move(b)) {}                // NOLINT
  value(value_array a) : data(std::move(a)) {}                 // NOLINT
  value(value_map m) : data(std::move(m)) {}                   // NOLINT

  template <class T>
  const T* get_if() const { return std::get_if<T>(&data); }
  template <class T>
  T* get_if() { return std::get_if<T>(&data); }
  bool is_null() const { return data.index() == 0; }

  /// The member `key` of a map, or nullptr (also when this is not a map).
  const value* find(std::string_view key) const;
  /// Writes a number (integers widen) to `out`; false when this is not a number.
  bool as_double(double& out) const;
};

/// The wire name of a value's type, for error messages ("string", "map", ...).
std::string_view type_name(const value& v);

}  // namespace infermesh
