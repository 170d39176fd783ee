#pragma once
/// The router's short-lived memory of requests, so a client's retry is never computed twice on this node: a
/// repeat of a request still in flight waits for the same answer; a repeat of one answered recently gets that
/// answer again. An entry is keyed by op and `id` (and whether a node forwarded it: a client's request and a
/// node's forward of a step never share an entry), and remembers the request's fingerprint: the same key with
/// another fingerprint is another request (`other_request`), never given this one's answer.
/// Bounded by `max_entries` (oldest forgotten first) and `ttl`, and each request in flight by `max_waiters`
/// repeats waiting for its answer (more are `too_many_waiters`: refused, not held). Plain code: the caller passes `now`; one owner
/// (the router), not thread-safe.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "messages/reply.hpp"
#include "messages/request.hpp"
#include "messages/request_fingerprint.hpp"

namespace infermesh {

class reply_cache {
 public:
  using clock = std::chrono::steady_clock;

  /// What an entry is filed under.
  struct key {
    std::string op;
    std::string id;
    bool forwarded = false;  ///< sent by another node (`hops` > 0), not by a client

    /// Orders keys in the cache's map.
    bool operator<(const key& other) const {
      return std::tie(op, id, forwarded) < std::tie(other.op, other.id, other.forwarded);
    }
  };

  /// Someone who asked for an id's answer: where to publish it and in which encoding.
  struct asker {
    std::string reply_subject;
    encoding enc = encoding::msgpack;
    std::function<void()> ack = {};  ///< durable delivery: acknowledge once answered
  };

  /// Repeats of one request in flight held by default: a client retries a handful of times within a deadline.
  static constexpr std::size_t default_max_waiters = 32;

  reply_cache(std::size_t max_entries, std::chrono::milliseconds ttl, std::size_t max_waiters = default_max_waiters)
      : max_entries_(max_entries), ttl_(ttl), max_waiters_(max_waiters) {}

  /// `new_request`: compute it. `in_flight`: the asker gets the answer when it is ready (`complete` returns
  /// it). `answered`: `answer` is the answer to send back now. `other_request`: the key is taken by a request
  /// with another fingerprint; `differs_in` names the first field that differs; nothing was registered.
  /// `too_many_waiters`: the same request is in flight with `max_waiters` repeats waiting already; the asker
  /// was not registered (answer it now: `overloaded`).
  enum class seen { new_request, in_flight, answered, other_request, too_many_waiters };

  /// What `admit` decided.
  struct admission {
    seen verdict = seen::new_request;
    reply answer;            ///< `answered` only
    std::string differs_in;  ///< `other_request` only: the wire name of the field (`image`, `doc_type`, ...)
  };

  /// Registers a request under `k` with fingerprint `fp`.
  admission admit(const key& k, const request_fingerprint& fp, const asker& who, clock::time_point now);
  /// The answer for `k` is ready: remembered for `ttl` when `remember` (not for transient errors such as
  /// `overloaded`, which a retry should try afresh); returns the other askers waiting for it.
  std::vector<asker> complete(const key& k, const reply& answer, clock::time_point now, bool remember = true);

  /// Entries held (in flight and remembered).
  std::size_t size() const { return entries_.size(); }
  /// The most repeats held waiting for one request in flight.
  std::size_t max_waiters() const { return max_waiters_; }

 private:
  struct entry {
    request_fingerprint fingerprint;
    std::optional<reply> answer;  ///< empty while in flight
    std::vector<asker> waiting;
    clock::time_point expires{};
  };
  void forget_old(clock::time_point now);

  std::size_t max_entries_;
  std::chrono::milliseconds ttl_;
  std::size_t max_waiters_;
  std::map<key, entry> entries_;
  std::deque<std::pair<clock::time_point, key>> answered_order_;  // (expiry, key), oldest first
};

}  // namespace infermesh
