#pragma once
/// Restart intensity and back-off, as plain code (Erlang/OTP's MaxR in MaxT): every supervisor here (a batcher
/// for its model actor, a group supervisor for its batcher, the router supervisor) asks it what to do after a
/// death. Config: `models[i].supervision`.

#include <chrono>
#include <deque>

namespace infermesh {

struct supervision_config {
  int max_restarts = 5;                          ///< within `period`; one more makes the child unhealthy
  std::chrono::milliseconds period{10000};
  std::chrono::milliseconds backoff{10};         ///< before the first restart; doubles per restart in `period`
  std::chrono::milliseconds max_backoff{1000};
  int max_attempts = 3;                          ///< a request is answered `internal` at this many deaths under it
  /// A model whose replacement is still loading this long after its predecessor died makes the node stop
  /// taking the ops that need it until it is ready (short reloads just queue).
  std::chrono::milliseconds loading_grace{1000};
};

class restart_intensity {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit restart_intensity(supervision_config config = {}) : config_(config) {}

  struct decision {
    std::chrono::milliseconds delay;  ///< wait this long before the restart
    bool exceeded = false;            ///< more than max_restarts within the period: unhealthy, one try per period
  };

  /// A child died at `now`.
  decision on_death(time_point now) {
    while (!deaths_.empty() && now - deaths_.front() > config_.period) deaths_.pop_front();
    deaths_.push_back(now);
    auto delay = config_.backoff;
    for (std::size_t i = 1; i < deaths_.size() && delay < config_.max_backoff; ++i) delay *= 2;
    delay = std::min(delay, config_.max_backoff);
    if (static_cast<int>(deaths_.size()) > config_.max_restarts) return {config_.period, true};
    return {delay, false};
  }

  const supervision_config& config() const { return config_; }

 private:
  supervision_config config_;
  std::deque<time_point> deaths_;  // within the period
};

}  // namespace infermesh
