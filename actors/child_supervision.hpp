#pragma once
/// Supervision of one child that holds jobs (a batcher group, an OCR pool, a step actor), shared by
/// batcher_supervisor and step_supervisor: the one lifecycle's actor side (supervised_child: restarts, back-off,
/// intensity, loading grace, health) plus held_jobs. The supervisor passes each job on and keeps it until the
/// child answers; when the child dies, the jobs it held wait for its replacement and go to it once it serves,
/// or are answered `internal` past `max_attempts`; unhealthy, jobs are answered `unavailable`.
/// One instance lives in the supervisor actor's state; `Self` is that actor's pointer type, which passes its
/// down messages to `on_down` and its `(supervise_atom, slot, timer)` messages to `on_timer`.

#include <caf/all.hpp>

#include <functional>
#include <string>

#include "actors/held_jobs.hpp"
#include "actors/supervised_child.hpp"

namespace infermesh {

template <class Child, class Job, class Result>
class child_supervision {
 public:
  struct setup {
    typename supervised_child<Child>::setup child;  ///< `what` names it in messages: "the batcher of model 'x'"
    Child first;
    std::function<Result(error)> failed;  ///< a job's answer for an error
  };

  /// Starts supervising `s.first`; `atom` is the jobs' message tag.
  template <class Self, class Atom>
  void start(Self self, setup s, Atom atom) {
    what_ = s.child.what;
    failed_ = std::move(s.failed);
    max_attempts_ = s.child.supervision.max_attempts;
    auto on_ready = std::move(s.child.on_ready);
    s.child.on_ready = [this, self, atom, on_ready = std::move(on_ready)](const lifecycle& life) {
      if (on_ready) on_ready(life);
      for (auto ticket : held_.waiting()) send(self, ticket, atom);  // the replacement gets what was held
    };
    child_.start(self, std::move(s.child), std::move(s.first));
  }

  /// A new job: passed on now, or when a child serves again.
  template <class Self, class Atom>
  caf::result<Result> admit(Self self, Job job, Atom atom) {
    if (refusing()) return refused();
    auto promise = self->template make_response_promise<Result>();
    const auto ticket = held_.add(std::move(job), promise);
    if (child_.serving()) send(self, ticket, atom);
    return promise;
  }

  /// A down message: the child's death is handled (true), others are not ours (false).
  template <class Self>
  bool on_down(Self self, const caf::down_msg& down) {
    if (!child_.on_down(self, down)) return false;
    const auto why = self->system().render(down.reason);
    held_.child_died(max_attempts_, [&](int attempts) {
      return failed_({error_code::internal,
                      what_ + " died " + std::to_string(attempts) + " times while holding this request (last: " + why + ")"});
    });
    if (refusing()) held_.fail_all(refused());
    return true;
  }

  /// A timer of the child fired.
  template <class Self>
  void on_timer(Self self, std::uint64_t timer) {
    child_.on_timer(self, timer);
  }

  const supervised_child<Child>& child() const { return child_; }

 private:
  bool refusing() const {
    const auto s = child_.life().state();
    return s == life_state::unhealthy || s == life_state::stopped;
  }
  Result refused() const {
    return failed_({error_code::unavailable, what_ + " is " + std::string(state_name(child_.life().state())) + ": " +
                                                 child_.life().reason()});
  }

  template <class Self, class Atom>
  void send(Self self, std::uint64_t ticket, Atom atom) {
    auto& h = held_.at(ticket);
    h.incarnation = child_.life().incarnation();
    // (`this` lives in the actor's state: no response handler runs after it is gone.)
    self->request(child_.child(), caf::infinite, atom, h.job)
        .then([this, ticket, incarnation = h.incarnation](Result& r) { held_.answer(ticket, incarnation, std::move(r)); },
              [](caf::error&) {});  // the child died: its down message re-sends what it held
  }

  std::string what_;
  std::function<Result(error)> failed_;
  int max_attempts_ = 3;
  supervised_child<Child> child_;
  held_jobs<Job, Result> held_;
};

}  // namespace infermesh
