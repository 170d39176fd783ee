#pragma once
/// The one lifecycle of every supervised child — a model actor, an OCR engine, a batcher group, an OCR pool,
/// a step actor, the router, and the node processes under `infermesh cluster` — as a plain state machine with
/// no actors and no clock of its own: the caller passes `now` to every event, so tests drive it with made-up
/// times. (Triton keeps a model's ready state apart from its scheduler the same way: `model_lifecycle.h`.)
///
///   loading ──ready──▶ serving ──died──▶ restarting ──restart timer──▶ loading ...
///                         ▲                 │ past the restart intensity
///                         └──ready──── unhealthy ──one restart per period──▶ loading
///   any ──stop──▶ stopped (also a death with no restarts)
///
/// Each state has a reason (why it is there, for logs and status). Health, as the node's gate sees it, is
/// false while unhealthy or stopped, and while a replacement is still not serving `loading_grace` after its
/// predecessor died (short reloads just queue). Restart intensity and back-off are restart_intensity's.
/// Stale events are told apart by numbers: every spawned child has an `incarnation` (its readiness answer
/// carries it), every timer a `timer` id (CAF timers cannot be cancelled).
/// Not thread-safe: one owner (a supervisor actor, or the cluster launcher's thread).

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "actors/restart_intensity.hpp"

namespace infermesh {

enum class life_state { loading, serving, restarting, unhealthy, stopped };

/// "loading", "serving", ... (logs, status).
std::string_view state_name(life_state s);
inline std::ostream& operator<<(std::ostream& out, life_state s) { return out << state_name(s); }

class lifecycle {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  explicit lifecycle(supervision_config config = {}, bool restarts = true);

  /// What a supervisor arms after a death: the restart after `restart_delay` (timer `restart_timer`) and the
  /// loading-grace check after `grace_delay` (timer `grace_timer`). Nothing to arm when `!restarts`.
  struct after_death {
    bool restarts = true;
    std::chrono::milliseconds restart_delay{0};
    std::uint64_t restart_timer = 0;
    std::chrono::milliseconds grace_delay{0};
    std::uint64_t grace_timer = 0;
  };

  /// The first child was spawned at `now` (loading until it answers ready). Returns its incarnation.
  std::uint64_t started(time_point now);
  /// Child `incarnation` is ready (loaded, warm): serving. False for a stale answer (that child died).
  bool ready(std::uint64_t incarnation, time_point now);
  /// The current child died at `now` because `why`.
  after_death died(time_point now, std::string why);
  /// Timer `timer` fired at `now`: true when a replacement must be spawned now (it is then loading, with a
  /// new incarnation, see `incarnation()`); a grace timer may make the child overdue (not healthy).
  bool timer_fired(std::uint64_t timer, time_point now);
  /// The supervisor stops the child for good (shutdown): stopped.
  void stop(std::string why);

  life_state state() const { return state_; }
  const std::string& reason() const { return reason_; }
  /// As the node's gate sees it: false while unhealthy or stopped, or still not serving `loading_grace` after
  /// the last death.
  bool healthy() const;
  bool serving() const { return state_ == life_state::serving; }
  /// The child now running (or loading); answers from others are stale.
  std::uint64_t incarnation() const { return incarnation_; }
  /// Replacements that reached serving.
  std::uint64_t restarts() const { return restarts_; }
  /// Deaths so far.
  std::uint64_t deaths() const { return deaths_; }
  /// The longest and the last time from a death to the replacement serving, ms.
  double max_recovery_ms() const { return max_recovery_ms_; }
  double last_recovery_ms() const { return last_recovery_ms_; }
  const supervision_config& config() const { return intensity_.config(); }

 private:
  restart_intensity intensity_;
  bool restarts_allowed_;
  life_state state_ = life_state::loading;
  std::string reason_ = "not started";
  bool overdue_ = false;            // loading past the grace after a death
  bool sick_ = false;               // past the intensity, until a replacement serves: each death is one more
                                    // try per period, not a new burst of fast restarts
  time_point died_at_{};            // the first death not yet recovered from
  bool recovering_ = false;
  std::uint64_t incarnation_ = 0;
  std::uint64_t next_timer_ = 0;
  std::uint64_t restart_timer_ = 0;  // the live ones; 0: none
  std::uint64_t grace_timer_ = 0;
  std::uint64_t restarts_ = 0;
  std::uint64_t deaths_ = 0;
  double max_recovery_ms_ = 0;
  double last_recovery_ms_ = 0;
};

}  // namespace infermesh
