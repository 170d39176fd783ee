#pragma once
/// The router's short-lived memory of request ids, so a client's retry (same `id`) is never computed twice on
/// this node: a repeat of an id still in flight waits for the same answer; a repeat of an id answered
/// recently gets that answer again. Bounded by `max_entries` (oldest forgotten first) and `ttl`. Plain code:
/// the caller passes `now`; one owner (the router), not thread-safe.

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "messages/reply.hpp"
#include "messages/request.hpp"

namespace infermesh {

class reply_cache {
 public:
  using clock = std::chrono::steady_clock;

  /// Someone who asked for an id's answer: where to publish it and in which encoding.
  struct asker {
    std::string reply_subject;
    encoding enc = encoding::msgpack;
    std::function<void()> ack = {};  ///< durable delivery: acknowledge once answered
  };

  reply_cache(std::size_t max_entries, std::chrono::milliseconds ttl) : max_entries_(max_entries), ttl_(ttl) {}

  enum class seen { new_id, in_flight, answered };
  /// Registers a request for `id`. `new_id`: compute it. `in_flight`: the asker will get the answer when it
  /// is ready (`complete` returns it). `answered`: `answer` holds the answer to send back now.
  seen admit(const std::string& id, const asker& who, clock::time_point now, reply* answer);
  /// The answer to `id` is ready: remembered for `ttl` when `remember` (not for transient errors such as
  /// `overloaded`, which a retry should try afresh); returns the other askers waiting for it.
  std::vector<asker> complete(const std::string& id, const reply& answer, clock::time_point now, bool remember = true);

  std::size_t size() const { return entries_.size(); }

 private:
  struct entry {
    std::optional<reply> answer;  ///< empty while in flight
    std::vector<asker> waiting;
    clock::time_point expires{};
  };
  void forget_old(clock::time_point now);

  std::size_t max_entries_;
  std::chrono::milliseconds ttl_;
  std::map<std::string, entry> entries_;
  std::deque<std::pair<clock::time_point, std::string>> answered_order_;  // (expiry, id), oldest first
};

}  // namespace infermesh
