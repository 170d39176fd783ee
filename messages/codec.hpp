#pragma once
/// The v1 codec: payload bytes <-> requests and replies, in msgpack (map with string keys) or JSON (first byte
/// `{`, after an optional BOM and whitespace). Decoding never throws, never crashes on hostile input, and
/// allocates only in proportion to the payload (bounded by `decode_limits`). Pure functions: any thread may call
/// them.

#include <string>

#include "messages/outcome.hpp"
#include "messages/reply.hpp"
#include "messages/request.hpp"
#include "messages/value.hpp"

namespace infermesh {

/// JSON when the first byte after an optional UTF-8 byte order mark and JSON whitespace is `{`, msgpack otherwise.
encoding detect_encoding(const shared_bytes& payload);

/// Parses a payload into a value tree; errors are `bad_request` (malformed) or `too_large`.
outcome<value> decode_value(const shared_bytes& payload, encoding enc, const decode_limits& limits);

/// Encodes a value tree.
std::string encode_value(const value& v, encoding enc);

/// Decodes and validates a request. Unknown fields are ignored (clients may be newer than the node).
outcome<request> decode_request(const shared_bytes& payload, const decode_limits& limits);

/// Encodes a request (clients and cross-node forwarding).
std::string encode_request(const request& req, encoding enc);

/// Encodes a reply.
std::string encode_reply(const reply& rep, encoding enc);

/// Decodes a reply (clients).
outcome<reply> decode_reply(const shared_bytes& payload);

}  // namespace infermesh
