#pragma once
/// Supervision of one child that takes jobs, shared by every supervisor of a model (model_supervisor: the
/// model actor; batcher_supervisor: a batcher group; step_supervisor: an OCR pool or a step actor): the one
/// lifecycle's actor side (supervised_child: restarts, back-off, intensity, loading grace, health) plus
/// held_jobs. The supervisor passes each job on once the child serves and keeps it until the child answers;
/// when the child dies, the jobs it held wait for its replacement and go to it, or are answered `internal` at
/// their `max_attempts`-th death (with `died` set, at once: the model supervisor's caller splits the batch
/// to isolate a poison input); unhealthy or stopped, jobs are answered `unavailable`. The supervisor's own
/// readiness (`ready`) is its child's.
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
    /// Set: a job whose child died under it is answered `died(error)` at once instead of being sent again.
    std::function<Result(error)> died = {};
  };

  /// Starts supervising `s.first`; `atom` is the jobs' message tag.
  template <class Self, class Atom>
  void start(Self self, setup s, Atom atom) {
    what_ = s.child.what;
    failed_ = std::move(s.failed);
    died_mode_ = static_cast<bool>(s.died);
    max_attempts_ = died_mode_ ? 1 : s.child.supervision.max_attempts;
    died_ = died_mode_ ? std::move(s.died) : failed_;
    auto on_ready = std::move(s.child.on_ready);
    s.child.on_ready = [this, self, atom, on_ready = std::move(on_ready)](const lifecycle& life) {
      if (on_ready) on_ready(life);
      for (auto& p : readiness_) p.deliver(true);
      readiness_.clear();
      for (auto ticket : held_.waiting()) send(self, ticket, atom);  // the replacement gets what was held
    };
    auto on_health = std::move(s.child.on_health);
    s.child.on_health = [this, on_health = std::move(on_health)](bool healthy) {
      if (on_health) on_health(healthy);
      if (refusing()) held_.fail_all(refused());  // not coming back soon: nothing waits for it
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

  /// Answers `true` once a child serves (now, if one does): the supervisor's readiness is its child's.
  template <class Self>
  caf::result<bool> ready(Self self) {
    if (child_.serving()) return true;
    readiness_.push_back(self->template make_response_promise<bool>());
    return readiness_.back();
  }

  /// A down message: the child's death is handled (true), others are not ours (false).
  template <class Self>
  bool on_down(Self self, const caf::down_msg& down) {
    if (!child_.is_death(down)) return false;
    const auto why = self->system().render(down.reason);
    held_.child_died(max_attempts_, [&](int attempts) {
      return died_({error_code::internal, what_ + " died " + (attempts > 1 ? std::to_string(attempts) + " times " : "") +
                                              "while holding this request (last: " + why + ")"});
    });
    child_.on_down(self, down);
    if (refusing()) held_.fail_all(refused());
    return true;
  }

  /// A job's answer failed as only a dead child's do: the child serves no more (supervised_child::mark_dying).
  void mark_dying(std::uint64_t incarnation) { child_.mark_dying(incarnation); }

  /// A timer of the child fired.
  template <class Self>
  void on_timer(Self self, std::uint64_t timer) {
    child_.on_timer(self, timer);
  }

  const supervised_child<Child>& child() const { return child_; }

 private:
  /// Unhealthy or stopped: not coming back soon.
  bool refusing() const {
    const auto s = child_.life().state();
    return s == life_state::unhealthy || s == life_state::stopped;
  }
  /// The answer to a job while refusing.
  Result refused() const {
    return failed_({error_code::unavailable, what_ + " is " + std::string(state_name(child_.life().state())) + ": " +
                                                 child_.life().reason()});
  }

  template <class Self, class Atom>
  void send(Self self, std::uint64_t ticket, Atom atom) {
    auto& h = held_.at(ticket);
    h.incarnation = child_.life().incarnation();
    // (`this` lives in the actor's state: no response handler runs after it is gone.)
    // A job that is answered when its child dies is never sent twice: it moves into the message (a model's
    // batch: no copy of its tensors). Others stay here, for a replacement.
    self->request(child_.child(), caf::infinite, atom, died_mode_ ? std::move(h.job) : Job(h.job))
        .then([this, ticket, incarnation = h.incarnation](Result& r) { held_.answer(ticket, incarnation, std::move(r)); },
              [this, incarnation = h.incarnation](caf::error&) {
                // The child died: its down message answers or re-sends what it held; until then it takes no work.
                child_.mark_dying(incarnation);
              });
  }

  std::string what_;
  std::function<Result(error)> failed_;
  std::function<Result(error)> died_;
  bool died_mode_ = false;
  int max_attempts_ = 3;
  std::vector<caf::typed_response_promise<bool>> readiness_;  // readiness probes waiting for a child
  supervised_child<Child> child_;
  held_jobs<Job, Result> held_;
};

/// A supervisor actor that is one child_supervision and nothing else (batcher_supervisor, step_supervisor):
/// `impl` is its full type (its child's interface `Interface` and its own timers), `state` its state.
template <class Interface, class Job, class Result>
struct job_supervisor {
  using impl = typename Interface::template extend<caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;
  struct state {
    child_supervision<Interface, Job, Result> group;
    static inline const char* name = "job-supervisor";
  };
  using pointer = typename impl::template stateful_pointer<state>;

  /// Wires `self`'s down messages to the group and starts supervising `s.first`; `atom` tags the jobs.
  template <class Atom>
  static void start(pointer self, typename child_supervision<Interface, Job, Result>::setup s, Atom atom) {
    self->set_down_handler([=](caf::down_msg& down) { self->state.group.on_down(self, down); });
    self->state.group.start(self, std::move(s), atom);
  }
  /// The handler of its timers.
  static auto timers(pointer self) {
    return [=](supervise_atom, std::uint64_t, std::uint64_t timer) { self->state.group.on_timer(self, timer); };
  }
  /// The handler of its readiness probe: answered once its child serves.
  static auto readiness(pointer self) {
    return [=](ping_atom) -> caf::result<bool> { return self->state.group.ready(self); };
  }
};

}  // namespace infermesh
