// JSON <-> value. Byte fields are base64 strings in JSON; decoding leaves them as strings (the request reader
// knows which fields are bytes), encoding writes `shared_bytes` as base64.

#include <cmath>
#include <optional>
#include <vector>
#include <nlohmann/json.hpp>

#include "messages/base64.hpp"
#include "messages/encodings.hpp"

namespace infermesh {
namespace {

// nlohmann's parser builds the whole tree before anything can look at it, and converting that tree recurses:
// refuse deep nesting and long arrays or maps in one pass over the text first, with msgpack's limits, so that
// no tree is built for a payload the msgpack decoder would refuse.
std::optional<error> within_limits(std::string_view text, const decode_limits& limits) {
  struct open_container {
    bool is_array;
    std::size_t items;  // commas seen at this level, plus one once anything but whitespace is inside
  };
  std::vector<open_container> open;  // at most max_depth + 1 entries
  std::size_t total = 0;             // items of every container so far
  bool in_string = false, escaped = false;
  auto counted = [&](open_container& c) -> std::optional<error> {
    const std::size_t limit = c.is_array ? limits.max_array_items : limits.max_map_items;
    if (++c.items > limit)
      return error{error_code::too_large, std::string("JSON ") + (c.is_array ? "array" : "object") + " has more than " +
                                              std::to_string(limit) + " items (the limit " +
                                              (c.is_array ? "max_array_items" : "max_map_items") + ")"};
    if (++total > limits.max_total_items) return too_many_items("JSON", limits);
    return std::nullopt;
  };
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ':') continue;
    if (c == '}' || c == ']') {
      if (!open.empty()) open.pop_back();
      continue;
    }
    if (c == ',') {
      if (!open.empty())
        if (auto e = counted(open.back())) return e;
      continue;
    }
    // The start of a value (or of an object's key): the first one makes an empty container hold one item.
    if (!open.empty() && open.back().items == 0)
      if (auto e = counted(open.back())) return e;
    if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (open.size() >= limits.max_depth)
        return error{error_code::bad_request, "malformed JSON: nested deeper than " + std::to_string(limits.max_depth)};
      open.push_back({c == '[', 0});
    }
  }
  return std::nullopt;
}

value from_json(const nlohmann::json& j) {
  switch (j.type()) {
    case nlohmann::json::value_t::boolean: return value{j.get<bool>()};
    case nlohmann::json::value_t::number_integer: return value{j.get<std::int64_t>()};
    case nlohmann::json::value_t::number_unsigned: {
      auto u = j.get<std::uint64_t>();
      if (u > static_cast<std::uint64_t>(INT64_MAX)) return value{static_cast<double>(u)};
      return value{static_cast<std::int64_t>(u)};
    }
    case nlohmann::json::value_t::number_float: return value{j.get<double>()};
    case nlohmann::json::value_t::string: return value{j.get<std::string>()};
    case nlohmann::json::value_t::array: {
      value_array items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(from_json(item));
      return value{std::move(items)};
    }
    case nlohmann::json::value_t::object: {
      value_map members;
      members.reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) members.emplace_back(it.key(), from_json(it.value()));
      return value{std::move(members)};
    }
    default: return value{};
  }
}

// ordered_json keeps the wire map's field order (id, ok, op, ...) in the text.
nlohmann::ordered_json to_json(const value& v) {
  return std::visit(
      [](const auto& x) -> nlohmann::ordered_json {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return nullptr;
        } else if constexpr (std::is_same_v<T, double>) {
          if (!std::isfinite(x)) return nullptr;
          return x;
        } else if constexpr (std::is_same_v<T, shared_bytes>) {
          return base64_encode(x.data(), x.size());
        } else if constexpr (std::is_same_v<T, value_array>) {
          auto arr = nlohmann::ordered_json::array();
          for (const auto& item : x) arr.push_back(to_json(item));
          return arr;
        } else if constexpr (std::is_same_v<T, value_map>) {
          auto obj = nlohmann::ordered_json::object();
          for (const auto& [k, item] : x) obj[k] = to_json(item);
          return obj;
        } else {
          return x;
        }
      },
      v.data);
}

}  // namespace

outcome<value> decode_json(const shared_bytes& payload, const decode_limits& limits) {
  if (auto e = within_limits(payload.view(), limits)) return *e;
  auto j = nlohmann::json::parse(payload.chars(), payload.chars() + payload.size(), nullptr, false);
  if (j.is_discarded()) return error{error_code::bad_request, "malformed JSON"};
  return from_json(j);
}

std::string encode_json(const value& v) {
  // Replace invalid UTF-8 rather than throw: a label or OCR text must never make a reply unencodable.
  return to_json(v).dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace infermesh
