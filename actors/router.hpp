#pragma once
/// The router actor: the node's front door. It receives raw requests from the transport (NATS delivery
/// threads send them with anon_send), decodes and validates them, routes each to the batcher of the model that
/// serves its op, enforces the request's deadline, and publishes exactly one reply per request.
///
/// Messages:
///   (incoming_atom, std::string op, shared_bytes payload, std::string reply_subject)  -> publishes one reply
///   (drain_atom)                  -> stop accepting: later requests are answered `unavailable`
///   (stats_atom) -> router_stats  -> counters, `in_flight` included (graceful drain waits for 0)

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "actors/protocol.hpp"
#include "messages/request.hpp"

namespace infermesh {

/// Publishes `payload` to `subject`. Must be thread-safe; called on CAF worker threads.
using publish_fn = std::function<void(const std::string& subject, std::string_view payload)>;

/// One op this node serves with a local model: a classifier behind a batcher, or an OCR worker pool (which
/// serves `ocr`, and `extract` as OCR followed by field extraction).
struct route {
  enum class kind { classify, ocr, extract };
  kind what = kind::classify;
  batcher_actor batcher;            ///< classify
  caf::actor ocr_pool;              ///< ocr (see spawn_ocr_pool)
  std::size_t capacity = 256;       ///< ocr: requests in flight before `overloaded` (a batcher has its own)
  std::string model_name;
  std::string model_version;
  std::vector<std::string> labels;  ///< classify

  static route classifier(batcher_actor b, std::string name, std::string version, std::vector<std::string> labels) {
    route r;
    r.batcher = std::move(b);
    r.model_name = std::move(name);
    r.model_version = std::move(version);
    r.labels = std::move(labels);
    return r;
  }
  static route reader(kind what, caf::actor pool, std::size_t capacity, std::string name, std::string version) {
    route r;
    r.what = what;
    r.ocr_pool = std::move(pool);
    r.capacity = capacity;
    r.model_name = std::move(name);
    r.model_version = std::move(version);
    return r;
  }
};

struct router_setup {
  std::string node_name;
  std::map<std::string, route> routes;  ///< op -> local model
  decode_limits limits;
  std::chrono::milliseconds default_deadline{10000};
  publish_fn publish;
  /// When set (the node hosts OCR), `classify` with `auto_rotate` first asks it for the page's orientation and
  /// the classifier sees the page upright; the rotation is forwarded as a parameter, the image is not re-encoded.
  caf::actor orienter;
};

caf::actor spawn_router(caf::actor_system& sys, router_setup setup);

}  // namespace infermesh
