#pragma once
/// What makes two requests with the same `id` "the same request" (PROTOCOL.md, request field `id`): the op
/// (the reply cache keys by it) and every field that changes the answer — the image bytes, `image_path`,
/// `doc_type`, `auto_rotate`, `max_pages`, `rotation` and `page_rotations`. Fields that only say how or
/// where to deliver the answer (`id`, `deadline_ms`, `priority`, `hops`, `reply_to`) are left out: a client's
/// retry and a node's forward change them and are still the same request. Pure code, any thread.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/request.hpp"

namespace infermesh {

/// The answer-determining fields of one request; the image as its size and a hash (never a copy).
struct request_fingerprint {
  std::size_t image_size = 0;
  std::size_t image_hash = 0;  ///< one pass over the bytes (std::hash of their view); equal bytes, equal hash
  std::optional<std::string> image_path;
  std::optional<std::string> doc_type;
  bool auto_rotate = true;
  std::int64_t max_pages = 10;
  std::optional<std::int64_t> rotation;
  std::vector<std::int64_t> page_rotations;
};

/// The fingerprint of `req`: one pass over its image bytes, the other fields copied (they are small).
request_fingerprint fingerprint_of(const request& req);

/// The wire name of the first field in which `a` and `b` differ (`image`, `doc_type`, ...), or "" when they
/// are the same request.
std::string first_difference(const request_fingerprint& a, const request_fingerprint& b);

}  // namespace infermesh
