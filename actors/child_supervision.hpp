#pragma once
/// Supervision of one child that holds jobs (a batcher, an OCR pool), shared by batcher_supervisor and
/// step_supervisor: the supervisor passes each job on and keeps it (held_jobs) until the child answers; when
/// the child dies, the jobs it held wait for its replacement (restarting_child: back-off and intensity) and go
/// to it, or are answered `internal` past `max_attempts`; past the restart
/// intensity the child is unhealthy (`on_health(false)`, jobs answered `unavailable`) and one restart is tried
/// per period. One instance lives in the supervisor actor's state; `Self` is that actor's pointer type.

#include <caf/all.hpp>

#include <functional>
#include <string>

#include "actors/held_jobs.hpp"
#include "actors/protocol.hpp"
#include "actors/restarting_child.hpp"

namespace infermesh {

template <class Child, class Job, class Result>
class child_supervision {
 public:
  struct setup {
    std::string what;  ///< for messages: "the batcher of model 'x'"
    typename restarting_child<Child>::setup child;
    std::function<Result(error)> failed;  ///< a job's answer for an error
  };

  /// Starts supervising `s.child.first`; `atom` is the jobs' message tag.
  template <class Self, class Atom>
  void start(Self self, setup s, Atom atom) {
    what_ = std::move(s.what);
    failed_ = std::move(s.failed);
    max_attempts_ = s.child.supervision.max_attempts;
    child_.start(self, std::move(s.child));
    resend(self, atom);
  }

  /// A new job: passed on now, or when a child runs again.
  template <class Self, class Atom>
  caf::result<Result> admit(Self self, Job job, Atom atom) {
    if (!child_.healthy()) return unhealthy();
    auto promise = self->template make_response_promise<Result>();
    const auto ticket = held_.add(std::move(job), promise);
    if (child_.child()) send(self, ticket, atom);
    return promise;
  }

  /// A down message: the child's death is handled (true), others are not ours (false).
  template <class Self>
  bool on_down(Self self, const caf::down_msg& down) {
    if (!child_.is_death(down)) return false;
    const auto why = self->system().render(down.reason);
    held_.child_died(max_attempts_, [&](int attempts) {
      return failed_({error_code::internal,
                      what_ + " died " + std::to_string(attempts) + " times while holding this request (last: " + why + ")"});
    });
    if (child_.died(self)) held_.fail_all(unhealthy());
    return true;
  }

  /// The back-off timer `generation` fired: the replacement gets what its predecessor held.
  template <class Self, class Atom>
  void restart(Self self, std::uint64_t generation, Atom atom) {
    if (child_.restart(self, generation)) resend(self, atom);
  }

  /// A fault for the group: `crash_action` kills the child, anything else is the child's.
  template <class Self>
  void fault(Self self, const std::string& action, std::int64_t value, const std::string& crash_action) {
    if (!child_.child()) return;
    if (action == crash_action) self->send_exit(child_.child(), caf::exit_reason::kill);
    else self->send(child_.child(), fault_atom::value, action, value);
  }

  const Child& child() const { return child_.child(); }

 private:
  Result unhealthy() const { return failed_({error_code::unavailable, what_ + " restarted too often: unhealthy"}); }

  template <class Self, class Atom>
  void resend(Self self, Atom atom) {
    for (auto ticket : held_.waiting()) send(self, ticket, atom);
  }

  template <class Self, class Atom>
  void send(Self self, std::uint64_t ticket, Atom atom) {
    auto& h = held_.at(ticket);
    h.incarnation = child_.incarnation();
    // (`this` lives in the actor's state: no response handler runs after it is gone.)
    self->request(child_.child(), caf::infinite, atom, h.job)
        .then([this, ticket, incarnation = h.incarnation](Result& r) { held_.answer(ticket, incarnation, std::move(r)); },
              [](caf::error&) {});  // the child died: its down message re-sends what it held
  }

  std::string what_;
  std::function<Result(error)> failed_;
  int max_attempts_ = 3;
  restarting_child<Child> child_;
  held_jobs<Job, Result> held_;
};

}  // namespace infermesh
