#include "actors/batcher_supervisor.hpp"

#include "actors/held_jobs.hpp"

namespace infermesh {
namespace {

using clock = std::chrono::steady_clock;

struct supervisor_state {
  ~supervisor_state() {  // shutting down: the group goes with its supervisor
    if (batcher) caf::anon_send_exit(batcher, caf::exit_reason::user_shutdown);
  }
  batcher_supervisor_setup setup;
  batcher_actor batcher;           ///< invalid while a restart waits for its back-off
  std::uint64_t incarnation = 1;
  held_jobs<infer_job, item_result> held;
  restart_intensity intensity;
  std::uint64_t restart_generation = 0;
  bool healthy = true;
  static inline const char* name = "batcher-supervisor";
};

using self_ptr = batcher_actor::stateful_pointer<supervisor_state>;

void send_job(self_ptr self, std::uint64_t ticket) {
  auto& st = self->state;
  auto& h = st.held.at(ticket);
  h.incarnation = st.incarnation;
  const auto incarnation = st.incarnation;
  self->request(st.batcher, caf::infinite, infer_atom::value, h.job)
      .then(
          [=](item_result& r) { self->state.held.answer(ticket, incarnation, std::move(r)); },
          [](caf::error&) {});  // the batcher died: its down message re-sends what it held
}

void watch(self_ptr self) {
  auto& st = self->state;
  self->monitor(st.batcher);
  for (auto ticket : st.held.waiting()) send_job(self, ticket);
}

/// The batcher died: what it held waits for (or fails over to) its replacement, spawned after the back-off.
void on_batcher_down(self_ptr self, const caf::down_msg& down) {
  auto& st = self->state;
  if (!st.batcher || down.source != st.batcher.address()) return;
  st.batcher = batcher_actor{};
  const auto why = self->system().render(down.reason);
  st.held.child_died(st.setup.supervision.max_attempts, [&](int attempts) {
    return item_result::failed(error_code::internal, "the batcher of model '" + st.setup.model_name + "' died " +
                                                         std::to_string(attempts) +
                                                         " times while holding this request (last: " + why + ")");
  });
  if (!st.setup.respawn) return;
  const auto next = st.intensity.on_death(clock::now());
  if (next.exceeded && st.healthy) {
    st.healthy = false;
    st.held.fail_all(item_result::failed(error_code::unavailable,
                                         "model '" + st.setup.model_name + "' is unhealthy (its batcher restarted too often)"));
    if (st.setup.on_health) st.setup.on_health(false);
  }
  self->delayed_send(self, next.delay, restart_atom::value, ++st.restart_generation);
}

batcher_actor::behavior_type supervisor_behavior(self_ptr self, batcher_supervisor_setup setup) {
  self->state.batcher = setup.first;
  self->state.setup = std::move(setup);
  self->state.intensity = restart_intensity(self->state.setup.supervision);
  self->set_down_handler([=](caf::down_msg& down) { on_batcher_down(self, down); });
  watch(self);
  return {
      [=](infer_atom, infer_job& job) -> caf::result<item_result> {
        auto& st = self->state;
        if (!st.healthy)
          return item_result::failed(error_code::unavailable,
                                     "model '" + st.setup.model_name + "' is unhealthy (its batcher restarted too often)");
        auto promise = self->make_response_promise<item_result>();
        const auto ticket = st.held.add(std::move(job), promise);
        if (st.batcher) send_job(self, ticket);
        return promise;
      },
      [=](stats_atom) -> caf::result<batcher_stats> {
        if (!self->state.batcher) return batcher_stats{};
        return self->delegate(self->state.batcher, stats_atom::value);
      },
      [=](fault_atom, const std::string& action, std::int64_t value) {
        auto& st = self->state;
        if (!st.batcher) return;
        if (action == "crash-batcher") self->send_exit(st.batcher, caf::exit_reason::kill);
        else self->send(st.batcher, fault_atom::value, action, value);
      },
      [=](restart_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.restart_generation || st.batcher) return;
        st.batcher = st.setup.respawn();
        ++st.incarnation;
        watch(self);
        if (!st.healthy) {
          st.healthy = true;
          if (st.setup.on_health) st.setup.on_health(true);
        }
        if (st.setup.on_restarted) st.setup.on_restarted();
      },
      [=](wake_atom, std::uint64_t) {},     // (the batcher's own timer messages: not used here)
      [=](loading_atom, std::uint64_t) {},
  };
}

}  // namespace

batcher_actor spawn_batcher_supervisor(caf::actor_system& sys, batcher_supervisor_setup setup) {
  return sys.spawn(supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
