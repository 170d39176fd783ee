#pragma once
/// The node's ingress backlog: core requests taken off NATS and handed to the router, not decoded yet (they
/// wait in the router's mailbox, or in its supervisor's while it restarts). NATS delivers as fast as the network
/// does and CAF mailboxes are unbounded, so the NATS callback asks `admit` before it hands a message on:
///   - a message without a reply subject is dropped (nobody could be answered; never decoded);
///   - past the bound (`backlog_limits`) the request is shed: the callback answers `overloaded` itself, from the
///     payload's first bytes only (its encoding), without decoding it;
///   - otherwise it is admitted with a `backlog_ticket` that holds its place (one request, its payload's bytes)
///     until the router has decoded it, or until whoever drops the message drops the ticket with it.
/// Refusals are counted, and `admit` says when one is worth a log line (at most one per kind per
/// `log_interval`, with how many went unlogged), so a flood never floods the log.
///
/// Threads: every method may be called from any thread at once (NATS delivery threads admit, the HTTP thread
/// reads the counters); a ticket may be released on any thread, also after this object is gone.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "actors/protocol.hpp"  // backlog_ticket

namespace infermesh {

/// The bound (`node.max_backlog_requests`, `node.max_backlog_bytes`).
struct backlog_limits {
  std::size_t max_requests = 1024;     ///< requests admitted and not decoded yet
  std::size_t max_bytes = 128u << 20;  ///< their payloads' bytes (a request alone is admitted whatever its size)
};

class ingress_backlog {
 public:
  using clock = std::chrono::steady_clock;

  enum class verdict { admitted, no_reply_subject, backlog_full };

  /// What `admit` decided.
  struct admission {
    verdict outcome = verdict::admitted;
    backlog_ticket ticket;       ///< `admitted` only: hand it to the router with the message
    bool log_now = false;        ///< refused: log this one (the first of its kind in `log_interval`)
    std::uint64_t unlogged = 0;  ///< `log_now`: refusals of this kind since the last one logged, this one included
  };

  explicit ingress_backlog(backlog_limits limits, std::chrono::milliseconds log_interval = std::chrono::seconds(10));

  /// A message of `bytes` bytes arrived, with a reply subject or not.
  admission admit(std::size_t bytes, bool has_reply_subject, clock::time_point now = clock::now());

  /// Requests admitted and not decoded (or dropped) yet.
  std::size_t requests() const;
  /// Their payloads' bytes.
  std::size_t bytes() const;
  /// Messages dropped so far because they had no reply subject.
  std::uint64_t dropped_without_reply() const;
  /// Requests shed so far (answered `overloaded` at the door).
  std::uint64_t shed() const;
  /// The message of the `overloaded` answer to a shed request on node `node_name`, naming the config keys.
  std::string shed_message(const std::string& node_name) const;
  const backlog_limits& limits() const;

 private:
  struct state;
  std::shared_ptr<state> state_;  // shared with the tickets: they may outlive this object
};

}  // namespace infermesh
