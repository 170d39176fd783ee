#pragma once
/// Standard base64 (RFC 4648, with padding), the JSON spelling of byte fields.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infermesh {

std::string base64_encode(const std::uint8_t* data, std::size_t size);

/// Decodes `text`; nullopt when it is not valid base64 (bad character, bad length or bad padding).
/// Unpadded input is accepted, as many JSON clients send it.
std::optional<std::vector<std::uint8_t>> base64_decode(std::string_view text);

}  // namespace infermesh
