#include "runtime/ingress_backlog.hpp"

#include <mutex>
#include <optional>

namespace infermesh {

struct ingress_backlog::state {
  state(backlog_limits l, std::chrono::milliseconds interval) : limits(l), log_interval(interval) {}
  const backlog_limits limits;
  const std::chrono::milliseconds log_interval;
  mutable std::mutex mutex;
  std::size_t requests = 0;
  std::size_t bytes = 0;
  std::uint64_t dropped = 0;
  std::uint64_t shed = 0;
  /// Per refusal kind (no reply subject, backlog full): when one was last logged and how many since.
  struct log_window {
    std::optional<clock::time_point> last;
    std::uint64_t unlogged = 0;
  };
  log_window windows[2];

  void release(std::size_t size) {
    std::lock_guard<std::mutex> guard(mutex);
    --requests;
    bytes -= size;
  }
  /// Under `mutex`: counts a refusal of kind `w`, and whether to log it now.
  void refused(admission& out, log_window& w, clock::time_point now) {
    ++w.unlogged;
    if (w.last && now - *w.last < log_interval) return;
    out.log_now = true;
    out.unlogged = w.unlogged;
    w.unlogged = 0;
    w.last = now;
  }
};

ingress_backlog::ingress_backlog(backlog_limits limits, std::chrono::milliseconds log_interval)
    : state_(std::make_shared<state>(limits, log_interval)) {}

ingress_backlog::admission ingress_backlog::admit(std::size_t size, bool has_reply_subject, clock::time_point now) {
  admission out;
  auto& s = *state_;
  std::lock_guard<std::mutex> guard(s.mutex);
  if (!has_reply_subject) {
    out.outcome = verdict::no_reply_subject;
    ++s.dropped;
    s.refused(out, s.windows[0], now);
    return out;
  }
  // A request alone is always admitted: a bound below one payload must not refuse everything.
  const bool full = s.requests >= s.limits.max_requests || (s.requests > 0 && s.bytes + size > s.limits.max_bytes);
  if (full) {
    out.outcome = verdict::backlog_full;
    ++s.shed;
    s.refused(out, s.windows[1], now);
    return out;
  }
  ++s.requests;
  s.bytes += size;
  // The ticket gives the place back when its last copy goes, on whatever thread that is.
  out.ticket.place = std::shared_ptr<void>(nullptr, [held = state_, size](void*) { held->release(size); });
  return out;
}

namespace {

/// One counter of `s`, read under its lock.
template <class State, class T>
T read(const State& s, T State::*field) {
  std::lock_guard<std::mutex> guard(s.mutex);
  return s.*field;
}

}  // namespace

std::size_t ingress_backlog::requests() const { return read(*state_, &state::requests); }
std::size_t ingress_backlog::bytes() const { return read(*state_, &state::bytes); }
std::uint64_t ingress_backlog::dropped_without_reply() const { return read(*state_, &state::dropped); }
std::uint64_t ingress_backlog::shed() const { return read(*state_, &state::shed); }

std::string ingress_backlog::shed_message(const std::string& node_name) const {
  const auto& l = state_->limits;
  return "node '" + node_name + "' has received more requests than it has decoded yet (bound: " +
         std::to_string(l.max_requests) + " requests, node.max_backlog_requests, or " + std::to_string(l.max_bytes) +
         " bytes, node.max_backlog_bytes): retry elsewhere or later";
}

const backlog_limits& ingress_backlog::limits() const { return state_->limits; }

}  // namespace infermesh
