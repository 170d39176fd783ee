#pragma once
/// Supervision of one child that holds jobs (a batcher, an OCR pool), shared by batcher_supervisor and
/// step_supervisor: the supervisor passes each job on and keeps it (held_jobs) until the child answers; when
/// the child dies, the jobs it held wait for its replacement (spawned after the back-off of
/// restart_intensity) and go to it, or are answered `internal` past `max_attempts`; past the restart
/// intensity the child is unhealthy (`on_health(false)`, jobs answered `unavailable`) and one restart is tried
/// per period. One instance lives in the supervisor actor's state; `Self` is that actor's pointer type.

#include <caf/all.hpp>

#include <functional>
#include <string>

#include "actors/held_jobs.hpp"
#include "actors/protocol.hpp"
#include "actors/restart_intensity.hpp"

namespace infermesh {

template <class Child, class Job, class Result>
class child_supervision {
 public:
  struct setup {
    std::string what;  ///< for messages: "the batcher of model 'x'"
    supervision_config supervision;
    Child first;
    std::function<Child()> respawn;  ///< empty: no restarts
    std::function<void(bool healthy)> on_health;
    std::function<void()> on_restarted;
    std::function<Result(error)> failed;  ///< a job's answer for an error
  };

  child_supervision() = default;
  child_supervision(const child_supervision&) = delete;
  child_supervision& operator=(const child_supervision&) = delete;
  ~child_supervision() {  // the supervisor stops: its child goes too
    if (child_) caf::anon_send_exit(child_, caf::exit_reason::user_shutdown);
  }

  /// Starts supervising `s.first`; `atom` is the jobs' message tag.
  template <class Self, class Atom>
  void start(Self self, setup s, Atom atom) {
    setup_ = std::move(s);
    child_ = setup_.first;
    intensity_ = restart_intensity(setup_.supervision);
    watch(self, atom);
  }

  /// A new job: passed on now, or when a child runs again.
  template <class Self, class Atom>
  caf::result<Result> admit(Self self, Job job, Atom atom) {
    if (!healthy_) return unhealthy();
    auto promise = self->template make_response_promise<Result>();
    const auto ticket = held_.add(std::move(job), promise);
    if (child_) send(self, ticket, atom);
    return promise;
  }

  /// A down message: the child's death is handled (true), others are not ours (false).
  template <class Self>
  bool on_down(Self self, const caf::down_msg& down) {
    if (!child_ || down.source != child_.address()) return false;
    child_ = Child{};
    const auto why = self->system().render(down.reason);
    held_.child_died(setup_.supervision.max_attempts, [&](int attempts) {
      return setup_.failed({error_code::internal, setup_.what + " died " + std::to_string(attempts) +
                                                      " times while holding this request (last: " + why + ")"});
    });
    if (!setup_.respawn) return true;
    const auto next = intensity_.on_death(std::chrono::steady_clock::now());
    if (next.exceeded && healthy_) {
      healthy_ = false;
      held_.fail_all(unhealthy());
      if (setup_.on_health) setup_.on_health(false);
    }
    self->delayed_send(self, next.delay, restart_atom::value, ++restart_generation_);
    return true;
  }

  /// The back-off timer `generation` fired: spawns the replacement (stale timers are ignored).
  template <class Self, class Atom>
  void restart(Self self, std::uint64_t generation, Atom atom) {
    if (generation != restart_generation_ || child_) return;
    child_ = setup_.respawn();
    ++incarnation_;
    watch(self, atom);
    if (!healthy_) {
      healthy_ = true;
      if (setup_.on_health) setup_.on_health(true);
    }
    if (setup_.on_restarted) setup_.on_restarted();
  }

  /// A fault for the group: `crash_action` kills the child, anything else is the child's.
  template <class Self>
  void fault(Self self, const std::string& action, std::int64_t value, const std::string& crash_action) {
    if (!child_) return;
    if (action == crash_action) self->send_exit(child_, caf::exit_reason::kill);
    else self->send(child_, fault_atom::value, action, value);
  }

  const Child& child() const { return child_; }

 private:
  Result unhealthy() const {
    return setup_.failed({error_code::unavailable, setup_.what + " restarted too often: unhealthy"});
  }

  template <class Self, class Atom>
  void watch(Self self, Atom atom) {
    self->monitor(child_);
    for (auto ticket : held_.waiting()) send(self, ticket, atom);
  }

  template <class Self, class Atom>
  void send(Self self, std::uint64_t ticket, Atom atom) {
    auto& h = held_.at(ticket);
    h.incarnation = incarnation_;
    // (`this` lives in the actor's state: no response handler runs after it is gone.)
    self->request(child_, caf::infinite, atom, h.job)
        .then([this, ticket, incarnation = incarnation_](Result& r) { held_.answer(ticket, incarnation, std::move(r)); },
              [](caf::error&) {});  // the child died: its down message re-sends what it held
  }

  setup setup_;
  Child child_;  ///< invalid while a restart waits for its back-off
  std::uint64_t incarnation_ = 1;
  held_jobs<Job, Result> held_;
  restart_intensity intensity_;
  std::uint64_t restart_generation_ = 0;
  bool healthy_ = true;
};

}  // namespace infermesh
