#include "actors/lifecycle.hpp"

namespace infermesh {

std::string_view state_name(life_state s) {
  switch (s) {
    case life_state::loading: return "loading";
    case life_state::serving: return "serving";
    case life_state::restarting: return "restarting";
    case life_state::unhealthy: return "unhealthy";
    case life_state::stopped: return "stopped";
  }
  return "unknown";
}

lifecycle::lifecycle(supervision_config config, bool restarts) : intensity_(config), restarts_allowed_(restarts) {}

std::uint64_t lifecycle::started(time_point) {
  state_ = life_state::loading;
  reason_ = "loading";
  return ++incarnation_;
}

bool lifecycle::ready(std::uint64_t incarnation, time_point now) {
  if (incarnation != incarnation_ || state_ != life_state::loading) return false;
  state_ = life_state::serving;
  reason_ = "serving";
  overdue_ = false;
  sick_ = false;
  grace_timer_ = 0;
  if (recovering_) {
    recovering_ = false;
    ++restarts_;
    last_recovery_ms_ = std::chrono::duration<double, std::milli>(now - died_at_).count();
    max_recovery_ms_ = std::max(max_recovery_ms_, last_recovery_ms_);
  }
  return true;
}

lifecycle::after_death lifecycle::died(time_point now, std::string why) {
  ++deaths_;
  if (!recovering_) {
    recovering_ = true;
    died_at_ = now;
  }
  restart_timer_ = grace_timer_ = 0;
  if (!restarts_allowed_ || state_ == life_state::stopped) {
    state_ = life_state::stopped;
    reason_ = "died, not restarted: " + why;
    return {false};
  }
  auto next = intensity_.on_death(now);
  if (sick_) next = {config().period, true};  // a try after being unhealthy died too: still one per period
  after_death out;
  out.restart_delay = next.delay;
  out.restart_timer = restart_timer_ = ++next_timer_;
  if (next.exceeded) {
    sick_ = true;
    state_ = life_state::unhealthy;
    reason_ = "restarted more than " + std::to_string(config().max_restarts) + " times in " +
              std::to_string(config().period.count()) + " ms (last death: " + why + "); next try in " +
              std::to_string(next.delay.count()) + " ms";
  } else {
    state_ = life_state::restarting;
    reason_ = "died (" + why + "); restart in " + std::to_string(next.delay.count()) + " ms";
    // The grace counts from the first death not recovered from: a crash loop is overdue too.
    const auto since = now - died_at_;
    const auto grace = config().loading_grace;
    out.grace_delay = since >= grace ? std::chrono::milliseconds(0)
                                     : std::chrono::duration_cast<std::chrono::milliseconds>(grace - since);
    out.grace_timer = grace_timer_ = ++next_timer_;
  }
  return out;
}

bool lifecycle::timer_fired(std::uint64_t timer, time_point) {
  if (timer == 0) return false;
  if (timer == grace_timer_) {
    grace_timer_ = 0;
    if (state_ == life_state::loading || state_ == life_state::restarting) {
      overdue_ = true;
      reason_ = "still not serving " + std::to_string(config().loading_grace.count()) + " ms after it died (" +
                reason_ + ")";
    }
    return false;
  }
  if (timer != restart_timer_) return false;
  restart_timer_ = 0;
  if (state_ != life_state::restarting && state_ != life_state::unhealthy) return false;
  const bool was_unhealthy = state_ == life_state::unhealthy;
  state_ = life_state::loading;
  reason_ = was_unhealthy ? "loading (a try after being unhealthy)" : "loading (replacement)";
  // An unhealthy child stays unhealthy for the gate until a replacement serves.
  if (was_unhealthy) overdue_ = true;
  ++incarnation_;
  return true;
}

void lifecycle::stop(std::string why) {
  state_ = life_state::stopped;
  reason_ = std::move(why);
  restart_timer_ = grace_timer_ = 0;
}

bool lifecycle::healthy() const {
  switch (state_) {
    case life_state::serving: return true;
    case life_state::loading:
    case life_state::restarting: return !overdue_;
    case life_state::unhealthy:
    case life_state::stopped: return false;
  }
  return false;
}

}  // namespace infermesh
