#include "messages/codec.hpp"

#include "messages/encodings.hpp"

namespace infermesh {

namespace {

/// Where a JSON object would start: after an optional UTF-8 byte order mark (EF BB BF) and JSON whitespace
/// (space, tab, CR, LF). Skipping them is unambiguous: a request or reply is a map, and a msgpack map starts with
/// 0x80-0x8f (fixmap), 0xde (map16) or 0xdf (map32); the skipped bytes are msgpack integers (whitespace a positive
/// fixint, 0xef a negative one), so a payload starting with them never was a msgpack map.
std::size_t json_start(const shared_bytes& payload) {
  const std::uint8_t* p = payload.data();
  const std::size_t n = payload.size();
  std::size_t i = 0;
  if (n >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf) i = 3;
  while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r')) ++i;
  return i;
}

}  // namespace

error too_many_items(const std::string& format, const decode_limits& limits) {
  return {error_code::too_large, format + " payload has more than " + std::to_string(limits.max_total_items) +
                                     " array and map items in all (the limit max_total_items)"};
}

encoding detect_encoding(const shared_bytes& payload) {
  const std::size_t start = json_start(payload);
  return start < payload.size() && payload.data()[start] == '{' ? encoding::json : encoding::msgpack;
}

outcome<value> decode_value(const shared_bytes& payload, encoding enc, const decode_limits& limits) {
  if (payload.size() > limits.max_payload_bytes)
    return error{error_code::too_large, "payload of " + std::to_string(payload.size()) + " bytes is over the limit of " +
                                            std::to_string(limits.max_payload_bytes)};
  if (payload.empty()) return error{error_code::bad_request, "empty payload"};
  if (enc == encoding::msgpack) return decode_msgpack(payload, limits);
  const std::size_t start = json_start(payload);
  return decode_json(payload.slice(start, payload.size() - start), limits);
}

std::string encode_value(const value& v, encoding enc) {
  return enc == encoding::json ? encode_json(v) : encode_msgpack(v);
}

}  // namespace infermesh
