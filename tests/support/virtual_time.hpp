#pragma once
// Actor tests on CAF's virtual time: the deterministic test_coordinator (caf/scheduler/test_coordinator.hpp,
// what CAF's own test DSL uses). Nothing runs until `run()`; timers fire only when `advance` moves the clock;
// actors read the time through their system's clock, so back-off, intensity periods, batching delays and
// loading grace are tested without waiting. Detached actors would run on real threads: tests here use
// scheduled ones only.

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include <cstdint>
#include <map>
#include <vector>

namespace infermesh::test {

struct virtual_time {
  static caf::actor_system_config& deterministic(caf::actor_system_config& cfg) {
    cfg.set("scheduler.policy", caf::atom("testing"));
    return cfg;
  }

  caf::actor_system_config cfg;  // declared first: destroyed last
  caf::actor_system sys{deterministic(cfg)};
  caf::scheduler::test_coordinator& sched = dynamic_cast<caf::scheduler::test_coordinator&>(sys.scheduler());
  caf::scoped_actor self{sys, true};
  std::vector<caf::actor> spawned;  // stopped at the end

  virtual_time() { sched.clock().current_time += std::chrono::hours(1); }  // (no time point 0)
  ~virtual_time() {
    for (auto& a : spawned) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    sched.run();
  }

  /// Runs every actor until no message is left.
  void run() { sched.run(); }
  /// Moves the clock by `d` (firing the timers due), then runs.
  void advance(caf::timespan d) {
    sched.advance_time(d);
    sched.run();
  }
  caf::actor_clock::time_point now() const { return sched.clock().now(); }
  template <class Handle>
  Handle keep(Handle h) {
    spawned.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }
};

/// A test double's answers it gives later (after a delay of virtual time it sets itself): each promise is
/// kept under a ticket, to be delivered when its timer (carrying the ticket) fires.
template <class Result>
class deferred_answers {
 public:
  std::uint64_t keep(caf::typed_response_promise<Result> promise) {
    waiting_.emplace(next_, std::move(promise));
    return next_++;
  }
  void deliver(std::uint64_t ticket, Result result) {
    auto found = waiting_.find(ticket);
    if (found == waiting_.end()) return;
    found->second.deliver(std::move(result));
    waiting_.erase(found);
  }

 private:
  std::map<std::uint64_t, caf::typed_response_promise<Result>> waiting_;
  std::uint64_t next_ = 0;
};

}  // namespace infermesh::test
