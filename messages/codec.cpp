#include "messages/codec.hpp"

#include "messages/encodings.hpp"

namespace infermesh {

encoding detect_encoding(const shared_bytes& payload) {
  return !payload.empty() && payload.data()[0] == '{' ? encoding::json : encoding::msgpack;
}

outcome<value> decode_value(const shared_bytes& payload, encoding enc, const decode_limits& limits) {
  if (payload.size() > limits.max_payload_bytes)
    return error{error_code::too_large, "payload of " + std::to_string(payload.size()) + " bytes is over the limit of " +
                                            std::to_string(limits.max_payload_bytes)};
  if (payload.empty()) return error{error_code::bad_request, "empty payload"};
  return enc == encoding::json ? decode_json(payload) : decode_msgpack(payload, limits);
}

std::string encode_value(const value& v, encoding enc) {
  return enc == encoding::json ? encode_json(v) : encode_msgpack(v);
}

}  // namespace infermesh
