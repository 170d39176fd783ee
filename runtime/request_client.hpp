#pragma once
/// Client side of the wire contract: send one request for an op and wait for its reply. Used by the CLI and
/// the integration tests (which therefore exercise exactly what a user runs).

#include <chrono>
#include <string>

#include "messages/codec.hpp"
#include "runtime/nats_transport.hpp"

namespace infermesh {

/// Encodes `req` in `enc`, requests `infermesh.v1.<op>`, and decodes the reply. Transport failures become
/// error replies too (`unavailable` when no node serves the op, `deadline_exceeded` on timeout), so callers
/// handle one shape.
reply send_request(nats_transport& transport, const std::string& op, const request& req, encoding enc,
                   std::chrono::milliseconds timeout);

/// Core delivery mode's client side: up to `attempts` tries with the same `id` (one is made up when the
/// request has none), each waiting at most `attempt_timeout`, `backoff` apart. A try is repeated when nothing
/// answered it (timeout, no node serves the op) or a node answered `overloaded` or `unavailable`; nodes answer
/// a repeated id from their reply cache, so nothing is computed twice on one node.
struct retry_policy {
  int attempts = 3;
  std::chrono::milliseconds attempt_timeout{10000};
  std::chrono::milliseconds backoff{100};
};

/// `send_request` with retries; `tries` (when given) is set to the number of tries made.
reply send_with_retries(nats_transport& transport, const std::string& op, request req, encoding enc,
                        const retry_policy& policy, int* tries = nullptr);

/// Durable delivery's client side (protocol.md, "Durable requests"): publishes `req` to the work queue
/// `infermesh.v1.jobs.<op>` with `Nats-Msg-Id` = its id (one is made up when it has none) and `reply_to` =
/// a fresh inbox, and returns the first reply (later ones for the same id are dropped). The publish is retried
/// (same id) while the stream elects a leader; if the connection is lost and re-established while the reply is
/// awaited, the request is asked again over request-reply with the same id (a reply sent meanwhile is lost).
/// `unavailable` when the queue does not accept it, `deadline_exceeded` when no reply comes; all within
/// `timeout`.
reply send_durable(nats_transport& transport, const std::string& op, request req, encoding enc,
                   std::chrono::milliseconds timeout);

/// A fresh random request id (`req-<16 hex digits>`).
std::string random_request_id();

}  // namespace infermesh
