#pragma once
/// The actor side of the one lifecycle (lifecycle.hpp): one supervised child inside a supervisor actor's
/// state. It spawns the child, monitors it, asks it `(ping_atom) -> bool` (answered once loaded and warm) to
/// know it serves, turns its death into the restart and loading-grace timers, spawns the replacement, and
/// reports health changes. Every supervisor here uses it: the model supervisor (model actor), the OCR pool
/// (one per engine), the batcher and step supervisors (held_jobs on top), the router supervisor.
///
/// The supervisor actor (`Self`) must (a) pass its down messages to `on_down` and (b) handle
/// `(supervise_atom, slot, timer)` by calling `on_timer` of the child in `slot` (its self-sent timers:
/// internal, never part of a public interface). All calls run on that actor's thread.

#include <caf/all.hpp>

#include <functional>
#include <string>

#include "actors/lifecycle.hpp"
#include "actors/protocol.hpp"

namespace infermesh {

template <class Child>
class supervised_child {
 public:
  struct setup {
    std::string what;                 ///< "model 'x'": in reasons and logs
    supervision_config supervision;
    /// Spawns a fresh child (it loads itself off the supervisor's thread). Empty: never restarted.
    std::function<Child()> respawn;
    /// Health as the gate sees it changed (lifecycle::healthy).
    std::function<void(bool healthy)> on_health;
    /// A child serves: the first (restarts() == 0) or a replacement.
    std::function<void(const lifecycle&)> on_ready;
    /// A child was spawned (the fault door keeps the handle to crash it; status). May be empty.
    std::function<void(const caf::actor&)> on_spawned;
  };

  supervised_child() = default;
  supervised_child(const supervised_child&) = delete;
  supervised_child& operator=(const supervised_child&) = delete;
  supervised_child(supervised_child&&) = delete;  // response handlers hold `this`
  ~supervised_child() {  // the supervisor stops: its child goes too
    if (child_) caf::anon_send_exit(child_, caf::exit_reason::user_shutdown);
  }

  /// Starts supervising `first` (spawned by the caller, maybe loaded already) as the child in `slot`.
  template <class Self>
  void start(Self self, setup s, Child first, std::uint64_t slot = 0) {
    setup_ = std::move(s);
    slot_ = slot;
    life_ = lifecycle(setup_.supervision, static_cast<bool>(setup_.respawn));
    adopt(self, std::move(first), life_.started(now(self)));
    // A fresh supervisor (a group's replacement) says where it stands: its predecessor's last word may have
    // been "unhealthy", and health is reported only on changes.
    if (setup_.on_health) setup_.on_health(life_.healthy());
  }

  /// Whether `down` is this child's death.
  bool is_death(const caf::down_msg& down) const { return child_ && down.source == child_.address(); }

  /// Whether `down` is this child's death; if so, it is handled (timers armed, health reported).
  template <class Self>
  bool on_down(Self self, const caf::down_msg& down) {
    if (!is_death(down)) return false;
    child_ = Child{};
    const bool before = life_.healthy();
    const auto next = life_.died(now(self), self->system().render(down.reason));
    if (next.restarts) {
      self->delayed_send(self, next.restart_delay, supervise_atom::value, slot_, next.restart_timer);
      if (next.grace_timer) self->delayed_send(self, next.grace_delay, supervise_atom::value, slot_, next.grace_timer);
    }
    report(before);
    return true;
  }

  /// A timer of this child fired: the replacement is spawned when due.
  template <class Self>
  void on_timer(Self self, std::uint64_t timer) {
    const bool before = life_.healthy();
    if (life_.timer_fired(timer, now(self))) adopt(self, setup_.respawn(), life_.incarnation());
    report(before);
  }

  /// A request to the child failed as only a dead child's do: it serves no more, though its down message
  /// (which counts the death) may still be on its way. Without this, work sent meanwhile would go to the dead
  /// child and fail again at once, as often as it is retried.
  /// `incarnation`: the child the request went to (an older one's late error changes nothing).
  void mark_dying(std::uint64_t incarnation) {
    if (incarnation == life_.incarnation()) dying_ = true;
  }

  /// The running child (invalid while none runs); whether it serves is `serving()`.
  const Child& child() const { return child_; }
  const lifecycle& life() const { return life_; }
  bool serving() const { return child_ && life_.serving() && !dying_; }
  bool healthy() const { return life_.healthy(); }

 private:
  template <class Self>
  static lifecycle::time_point now(Self self) {
    return self->clock().now();
  }

  void report(bool before) {
    if (life_.healthy() != before && setup_.on_health) setup_.on_health(life_.healthy());
  }

  template <class Self>
  void adopt(Self self, Child child, std::uint64_t incarnation) {
    child_ = std::move(child);
    dying_ = false;
    self->monitor(child_);
    if (setup_.on_spawned) setup_.on_spawned(caf::actor_cast<caf::actor>(child_));
    // Answered once the child has loaded (a model actor loads on its own thread first).
    self->request(child_, caf::infinite, ping_atom::value)
        .then(
            [this, self, incarnation](bool) {
              const bool before = life_.healthy();
              if (!life_.ready(incarnation, now(self))) return;
              report(before);
              if (setup_.on_ready) setup_.on_ready(life_);
            },
            [](caf::error&) {});  // it died while loading: its down message counts it
  }

  setup setup_;
  std::uint64_t slot_ = 0;
  Child child_;
  bool dying_ = false;
  lifecycle life_;
};

}  // namespace infermesh
