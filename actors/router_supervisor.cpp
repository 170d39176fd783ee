#include "actors/router_supervisor.hpp"

#include <vector>

namespace infermesh {
namespace {

struct router_supervisor_state {
  router_supervisor_setup setup;
  caf::actor router;  ///< invalid while a restart waits for its back-off
  restart_intensity intensity;
  std::uint64_t restart_generation = 0;
  std::vector<caf::message> waiting;  ///< arrived while no router ran
  bool draining = false;
  bool healthy = true;
  static inline const char* name = "router-supervisor";

  ~router_supervisor_state() {  // shutting down: the router goes with its supervisor
    if (router) caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
  }
};

using self_ptr = caf::stateful_actor<router_supervisor_state>*;

void pass_on(self_ptr self, caf::message m) {
  auto& st = self->state;
  if (st.router) return self->send(st.router, std::move(m));
  // Unhealthy, the wait is a whole period: let clients retry elsewhere (the node is unsubscribing) rather
  // than answer late. A durable request dropped here is redelivered after the ack wait.
  if (st.healthy && st.waiting.size() < st.setup.max_waiting) st.waiting.push_back(std::move(m));
}

void start_router(self_ptr self) {
  auto& st = self->state;
  st.router = spawn_router(self->system(), st.setup.router);
  self->monitor(st.router);
  if (st.draining) self->send(st.router, drain_atom::value);
  for (auto& m : st.waiting) self->send(st.router, std::move(m));
  st.waiting.clear();
}

caf::behavior router_supervisor_behavior(self_ptr self, router_supervisor_setup setup) {
  self->state.intensity = restart_intensity(setup.supervision);
  self->state.setup = std::move(setup);
  self->set_down_handler([=](caf::down_msg& down) {
    auto& st = self->state;
    if (!st.router || down.source != st.router.address()) return;
    st.router = caf::actor{};
    const auto next = st.intensity.on_death(std::chrono::steady_clock::now());
    if (next.exceeded && st.healthy) {
      st.healthy = false;
      if (st.setup.on_health) st.setup.on_health(false);
    }
    self->delayed_send(self, next.delay, restart_atom::value, ++st.restart_generation);
  });
  start_router(self);
  return {
      [=](incoming_atom a, const std::string& op, const shared_bytes& payload, const std::string& reply) {
        pass_on(self, caf::make_message(a, op, payload, reply));
      },
      [=](durable_atom a, const std::string& op, const shared_bytes& payload, std::uint64_t delivered,
          const acknowledger& ack) { pass_on(self, caf::make_message(a, op, payload, delivered, ack)); },
      [=](drain_atom a) {
        self->state.draining = true;
        if (self->state.router) self->send(self->state.router, a);
      },
      [=](stats_atom a) -> caf::result<router_stats> {
        if (!self->state.router) return router_stats{};
        auto promise = self->make_response_promise<router_stats>();
        self->request(self->state.router, std::chrono::seconds(5), a)
            .then([=](router_stats& s) mutable { promise.deliver(std::move(s)); },
                  [=](caf::error&) mutable { promise.deliver(router_stats{}); });  // it died meanwhile
        return promise;
      },
      [=](fault_atom, const std::string& action, std::int64_t) {
        if (action == "crash" && self->state.router) self->send_exit(self->state.router, caf::exit_reason::kill);
      },
      [=](restart_atom, std::uint64_t generation) {
        auto& st = self->state;
        if (generation != st.restart_generation || st.router) return;
        start_router(self);
        if (!st.healthy) {
          st.healthy = true;
          if (st.setup.on_health) st.setup.on_health(true);
        }
        if (st.setup.on_restarted) st.setup.on_restarted();
      },
  };
}

}  // namespace

caf::actor spawn_router_supervisor(caf::actor_system& sys, router_supervisor_setup setup) {
  return sys.spawn(router_supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
