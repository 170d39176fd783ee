#pragma once
/// Internal to messages/: the two encodings behind decode_value/encode_value.

#include <string>

#include "messages/outcome.hpp"
#include "messages/request.hpp"
#include "messages/value.hpp"

namespace infermesh {

outcome<value> decode_msgpack(const shared_bytes& payload, const decode_limits& limits);
std::string encode_msgpack(const value& v);
/// `payload` without the leading whitespace and UTF-8 byte order mark that detect_encoding skipped.
outcome<value> decode_json(const shared_bytes& payload, const decode_limits& limits);
std::string encode_json(const value& v);
/// The `too_large` error both encodings give past `limits.max_total_items` (`format`: "JSON" or "msgpack").
error too_many_items(const std::string& format, const decode_limits& limits);

}  // namespace infermesh
