#pragma once
/// The router actor: the node's front door. It receives raw requests from the transport (NATS delivery
/// threads send them with anon_send), decodes and validates them, and walks the op's pipeline (pipeline.hpp):
/// each step goes to the step's server — a local model's step actor when this node hosts the model, else the
/// remote step actor, which asks another node over NATS. One code path runs every step, local or remote; the
/// request's deadline bounds each step (CAF request timeout = time left); exactly one reply per request.
///
/// A PDF or TIFF is split into page images first (on a preprocessing worker); an image is its own only page.
///
/// Interface: router_actor (interfaces.hpp):
///   (incoming_atom, std::string op, shared_bytes payload, std::string reply_subject, steady_time received,
///    backlog_ticket ticket)
///       -> publishes one reply; `received` (when NATS delivered it) starts the request's deadline; `ticket`
///       (its place in the node's ingress backlog) is released as soon as the payload is decoded
///   (durable_atom, std::string op, shared_bytes payload, std::uint64_t delivered, acknowledger ack,
///    steady_time received)
///       a request from the work queue: the reply goes to its `reply_to`, then `ack`; past `max_deliver`
///       deliveries it is answered `internal` and acknowledged (removed), never left in the stream
///   (drain_atom)                  -> stop accepting: later requests are answered `unavailable`
///   (stats_atom) -> router_stats  -> counters, `in_flight` included (graceful drain waits for 0)

#include <functional>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "actors/interfaces.hpp"
#include "actors/reply_cache.hpp"
#include "messages/reply.hpp"
#include "messages/request.hpp"

namespace infermesh {

/// Publishes `payload` to `subject`. Must be thread-safe; called on CAF worker threads.
using publish_fn = std::function<void(const std::string& subject, std::string_view payload)>;

struct router_setup {
  std::string node_name;
  std::map<std::string, pipeline> pipelines;      ///< op -> its steps, for every op this node accepts
  std::map<step_kind, step_actor> local_steps;    ///< the steps this node's models serve
  step_actor remote;                              ///< every other step (null: answered `unavailable`)
  preprocess_actor splitter;                      ///< preprocessing pool: splits PDF and TIFF into pages
  document_limits documents;
  /// Pixels of split pages all requests may hold at once; a document arriving over it is `overloaded`.
  std::uint64_t max_inflight_document_pixels = 400'000'000;
  int max_pages = 100;                            ///< the most pages a request may ask for (`max_pages`)
  decode_limits limits;
  std::chrono::milliseconds default_deadline{10000};
  publish_fn publish;
  /// A client's retry (same `id`) within `reply_cache_ttl` is answered from memory, never computed twice here.
  std::size_t reply_cache_entries = 10000;
  std::chrono::milliseconds reply_cache_ttl{60000};
  /// Repeats of one request in flight that wait for its answer; more are answered `overloaded` at once.
  std::size_t max_waiters_per_id = reply_cache::default_max_waiters;
  /// Durable delivery: deliveries of one request before it is answered `internal` (the node sets its config's
  /// `jetstream.max_deliver`; unset, no limit).
  std::uint64_t max_deliver = std::numeric_limits<std::uint64_t>::max();
  /// Told of every error reply the router sends (id, op, code, message), on the router's thread, after it is
  /// published: the node logs the ones an operator must see (actors do not log). Must not block; null: nobody.
  std::function<void(const reply&)> on_error_reply;
  /// Told of every reply the router publishes to an `op` request (id, op, ok or the error), with the seconds
  /// from taking the request off NATS to publishing its answer, on the router's thread (metrics). Must not
  /// block; null: nobody. Repeats answered from the reply cache are not told (nor counted in `router_stats`).
  std::function<void(const std::string& op, const reply&, double seconds)> on_reply;
};

router_actor spawn_router(caf::actor_system& sys, router_setup setup);

}  // namespace infermesh
