#pragma once
/// One supervised child and its restarts, shared by every supervisor here (router_supervisor, and through
/// child_supervision the batcher and step supervisors): the child's handle (invalid while a restart waits),
/// the back-off and intensity of restart_intensity, health reports, and the child's death with its
/// supervisor. One instance lives in the supervisor actor's state; `Self` is that actor's pointer type, which
/// must handle (restart_atom, generation) by calling `restart`.

#include <caf/all.hpp>

#include <functional>

#include "actors/protocol.hpp"
#include "actors/restart_intensity.hpp"

namespace infermesh {

template <class Child>
class restarting_child {
 public:
  struct setup {
    supervision_config supervision;
    Child first;
    std::function<Child()> respawn;  ///< empty: no restarts
    std::function<void(bool healthy)> on_health;
    std::function<void()> on_restarted;
  };

  restarting_child() = default;
  restarting_child(const restarting_child&) = delete;
  restarting_child& operator=(const restarting_child&) = delete;
  ~restarting_child() {  // the supervisor stops: its child goes too
    if (child_) caf::anon_send_exit(child_, caf::exit_reason::user_shutdown);
  }

  /// Starts supervising `s.first` (monitored: its death is a down message to `self`).
  template <class Self>
  void start(Self self, setup s) {
    setup_ = std::move(s);
    intensity_ = restart_intensity(setup_.supervision);
    adopt(self, setup_.first);
  }

  /// Whether a down message is this child's death.
  bool is_death(const caf::down_msg& down) const { return child_ && down.source == child_.address(); }

  /// The child died: the replacement comes after the back-off; past the intensity, unhealthy first
  /// (`on_health(false)`, once) and one try per period. Returns whether it just became unhealthy.
  template <class Self>
  bool died(Self self) {
    child_ = Child{};
    if (!setup_.respawn) return false;
    const auto next = intensity_.on_death(std::chrono::steady_clock::now());
    const bool newly_unhealthy = next.exceeded && healthy_;
    if (newly_unhealthy) {
      healthy_ = false;
      if (setup_.on_health) setup_.on_health(false);
    }
    self->delayed_send(self, next.delay, restart_atom::value, ++generation_);
    return newly_unhealthy;
  }

  /// The back-off timer `generation` fired: spawns and monitors the replacement. False for a stale timer.
  template <class Self>
  bool restart(Self self, std::uint64_t generation) {
    if (generation != generation_ || child_) return false;
    adopt(self, setup_.respawn());
    ++incarnation_;
    if (!healthy_) {
      healthy_ = true;
      if (setup_.on_health) setup_.on_health(true);
    }
    if (setup_.on_restarted) setup_.on_restarted();
    return true;
  }

  const Child& child() const { return child_; }
  bool healthy() const { return healthy_; }
  /// Which child this is (1: the first); jobs sent to an earlier one are not its answers.
  std::uint64_t incarnation() const { return incarnation_; }

 private:
  template <class Self>
  void adopt(Self self, Child child) {
    child_ = std::move(child);
    self->monitor(child_);
  }

  setup setup_;
  Child child_;
  restart_intensity intensity_;
  std::uint64_t generation_ = 0;  // stale back-off timers are ignored
  std::uint64_t incarnation_ = 1;
  bool healthy_ = true;
};

}  // namespace infermesh
