#include "actors/step_supervisor.hpp"

#include "actors/held_jobs.hpp"

namespace infermesh {
namespace {

struct step_supervisor_state {
  ~step_supervisor_state() {  // shutting down: the pool goes with its supervisor
    if (pool) caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }
  step_supervisor_setup setup;
  caf::actor pool;  ///< invalid while a restart waits for its back-off
  std::uint64_t incarnation = 1;
  held_jobs<step_request, step_reply> held;
  restart_intensity intensity;
  std::uint64_t restart_generation = 0;
  bool healthy = true;
  static inline const char* name = "step-supervisor";
};

using self_ptr = caf::stateful_actor<step_supervisor_state>*;

void send_step(self_ptr self, std::uint64_t ticket) {
  auto& st = self->state;
  auto& h = st.held.at(ticket);
  h.incarnation = st.incarnation;
  const auto incarnation = st.incarnation;
  // No timeout here: the router's request carries the deadline, and the pool drops pages past it.
  self->request(st.pool, caf::infinite, step_atom::value, h.job)
      .then([=](step_reply& r) { self->state.held.answer(ticket, incarnation, std::move(r)); },
            [](caf::error&) {});  // the pool died: its down message re-sends what it held
}

void watch(self_ptr self) {
  self->monitor(self->state.pool);
  for (auto ticket : self->state.held.waiting()) send_step(self, ticket);
}

void on_pool_down(self_ptr self, const caf::down_msg& down) {
  auto& st = self->state;
  if (!st.pool || down.source != st.pool.address()) return;
  st.pool = caf::actor{};
  const auto why = self->system().render(down.reason);
  st.held.child_died(st.setup.supervision.max_attempts, [&](int attempts) {
    return step_reply::failed({error_code::internal, "the pool of model '" + st.setup.model_name + "' died " +
                                                         std::to_string(attempts) +
                                                         " times while holding this request (last: " + why + ")"});
  });
  if (!st.setup.respawn) return;
  const auto next = st.intensity.on_death(std::chrono::steady_clock::now());
  if (next.exceeded && st.healthy) {
    st.healthy = false;
    st.held.fail_all(step_reply::failed(
        {error_code::unavailable, "model '" + st.setup.model_name + "' is unhealthy (its pool restarted too often)"}));
    if (st.setup.on_health) st.setup.on_health(false);
  }
  self->delayed_send(self, next.delay, restart_atom::value, ++st.restart_generation);
}

caf::behavior step_supervisor_behavior(self_ptr self, step_supervisor_setup setup) {
  self->state.pool = setup.first;
  self->state.intensity = restart_intensity(setup.supervision);
  self->state.setup = std::move(setup);
  self->set_down_handler([=](caf::down_msg& down) { on_pool_down(self, down); });
  watch(self);
  return {
      [=](step_atom, step_request& req) -> caf::result<step_reply> {
        auto& st = self->state;
        if (!st.healthy)
          return step_reply::failed(
              {error_code::unavailable, "model '" + st.setup.model_name + "' is unhealthy (its pool restarted too often)"});
        auto promise = self->make_response_promise<step_reply>();
        const auto ticket = st.held.add(std::move(req), promise);
        if (st.pool) send_step(self, ticket);
        return promise;
      },
      [=](fault_atom, const std::string& action, std::int64_t value) {
        auto& st = self->state;
        if (!st.pool) return;
        if (action == "crash-pool") self->send_exit(st.pool, caf::exit_reason::kill);
        else self->send(st.pool, fault_atom::value, action, value);
      },
      [=](restart_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.restart_generation || st.pool) return;
        st.pool = st.setup.respawn();
        ++st.incarnation;
        watch(self);
        if (!st.healthy) {
          st.healthy = true;
          if (st.setup.on_health) st.setup.on_health(true);
        }
        if (st.setup.on_restarted) st.setup.on_restarted();
      },
  };
}

}  // namespace

caf::actor spawn_step_supervisor(caf::actor_system& sys, step_supervisor_setup setup) {
  return sys.spawn(step_supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
