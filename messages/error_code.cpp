#include "messages/error_code.hpp"

#include <array>
#include <utility>

namespace infermesh {
namespace {

constexpr std::array<std::pair<error_code, std::string_view>, 8> names{{
    {error_code::bad_request, "bad_request"},
    {error_code::unsupported_media, "unsupported_media"},
    {error_code::too_large, "too_large"},
    {error_code::not_found, "not_found"},
    {error_code::overloaded, "overloaded"},
    {error_code::deadline_exceeded, "deadline_exceeded"},
    {error_code::unavailable, "unavailable"},
    {error_code::internal, "internal"},
}};

}  // namespace

std::string_view to_string(error_code code) {
  for (const auto& [c, name] : names)
    if (c == code) return name;
  return "internal";
}

std::optional<error_code> error_code_from_string(std::string_view name) {
  for (const auto& [c, n] : names)
    if (n == name) return c;
  return std::nullopt;
}

}  // namespace infermesh
