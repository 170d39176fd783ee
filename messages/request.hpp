#pragma once
/// A decoded v1 request (protocol.md "Request"). The op comes from the subject, not the payload.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "messages/shared_bytes.hpp"

namespace infermesh {

/// The two wire encodings; a reply uses its request's encoding.
enum class encoding { msgpack, json };

struct request {
  std::string id;                      ///< client's idempotency key; empty when the client sent none
  shared_bytes image;                  ///< encoded file; views the NATS message when it came as msgpack bin
  std::optional<std::string> image_path;
  std::optional<std::string> doc_type;
  bool auto_rotate = true;
  std::int64_t max_pages = 10;
  std::optional<std::int64_t> deadline_ms;  ///< relative; the node default applies when absent
  std::int64_t priority = 0;                ///< higher is served first within a model's queue
  std::optional<std::string> reply_to;      ///< durable mode: where the reply goes
  /// Extension: the page is known to be turned this many degrees clockwise (0/90/180/270); the node turns it
  /// upright and skips orientation detection. Nodes set it when they forward a step to another node.
  std::optional<std::int64_t> rotation;
  /// Extension: the same per page of a PDF or TIFF, in page order (a page past the end is oriented by the node).
  /// Nodes set it when they forward a step on a multi-page document whose pages they already oriented.
  std::vector<std::int64_t> page_rotations;
  /// Extension: how many times a node already forwarded this request; a forwarded request is not forwarded
  /// again (no routing loops between nodes that each lack a step's model).
  int hops = 0;
};

/// Bounds the decoder enforces before it allocates anything proportional to a claim in the payload.
struct decode_limits {
  std::size_t max_payload_bytes = 8u << 20;  ///< whole message
  std::size_t max_image_bytes = 8u << 20;    ///< decoded `image` field
  std::size_t max_depth = 32;                ///< nesting of arrays and maps, in msgpack and JSON alike
  std::size_t max_array_items = 4096;        ///< per array: a request has a handful of fields; replies carry page lists
  std::size_t max_map_items = 1024;          ///< per map
  /// Items of every array and map in the whole payload, at all levels: the per-container limits alone let
  /// ~2000 nested arrays of 4096 one-byte items (8 MB) build a tree of ~8 million values. 65536 holds a reply
  /// with 4096 pages (the most `max_array_items` lets through) with room to spare.
  std::size_t max_total_items = 65536;
};

}  // namespace infermesh
