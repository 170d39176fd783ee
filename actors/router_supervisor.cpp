#include "actors/router_supervisor.hpp"

#include <vector>

#include "actors/restarting_child.hpp"

namespace infermesh {
namespace {

struct router_supervisor_state {
  std::size_t max_waiting = 0;
  restarting_child<caf::actor> router;
  std::vector<caf::message> waiting;  ///< arrived while no router ran
  bool draining = false;
  static inline const char* name = "router-supervisor";
};

using self_ptr = caf::stateful_actor<router_supervisor_state>*;

void pass_on(self_ptr self, caf::message m) {
  auto& st = self->state;
  if (st.router.child()) return self->send(st.router.child(), std::move(m));
  // Unhealthy, the wait is a whole period: let clients retry elsewhere (the node is unsubscribing) rather
  // than answer late. A durable request dropped here is redelivered after the ack wait.
  if (st.router.healthy() && st.waiting.size() < st.max_waiting) st.waiting.push_back(std::move(m));
}

/// A router runs (again): it drains if the node does, and takes what arrived meanwhile.
void catch_up(self_ptr self) {
  auto& st = self->state;
  if (st.draining) self->send(st.router.child(), drain_atom::value);
  for (auto& m : st.waiting) self->send(st.router.child(), std::move(m));
  st.waiting.clear();
}

caf::behavior router_supervisor_behavior(self_ptr self, router_supervisor_setup setup) {
  auto& st = self->state;
  st.max_waiting = setup.max_waiting;
  caf::actor_system* sys = &self->system();
  auto respawn = [sys, router = setup.router] { return spawn_router(*sys, router); };
  st.router.start(self, {setup.supervision, respawn(), respawn, setup.on_health, setup.on_restarted});
  self->set_down_handler([=](caf::down_msg& down) {
    if (self->state.router.is_death(down)) self->state.router.died(self);
  });
  return {
      [=](incoming_atom a, const std::string& op, const shared_bytes& payload, const std::string& reply,
          steady_time received) { pass_on(self, caf::make_message(a, op, payload, reply, received)); },
      [=](durable_atom a, const std::string& op, const shared_bytes& payload, std::uint64_t delivered,
          const acknowledger& ack, steady_time received) {
        pass_on(self, caf::make_message(a, op, payload, delivered, ack, received));
      },
      [=](drain_atom a) {
        self->state.draining = true;
        if (self->state.router.child()) self->send(self->state.router.child(), a);
      },
      [=](stats_atom a) -> caf::result<router_stats> {
        if (!self->state.router.child()) return router_stats{};
        auto promise = self->make_response_promise<router_stats>();
        self->request(self->state.router.child(), std::chrono::seconds(5), a)
            .then([=](router_stats& s) mutable { promise.deliver(std::move(s)); },
                  [=](caf::error&) mutable { promise.deliver(router_stats{}); });  // it died meanwhile
        return promise;
      },
      [=](fault_atom, const std::string& action, std::int64_t) {
        if (action == "crash" && self->state.router.child())
          self->send_exit(self->state.router.child(), caf::exit_reason::kill);
      },
      [=](restart_atom, std::uint64_t generation) {
        if (self->state.router.restart(self, generation)) catch_up(self);
      },
  };
}

}  // namespace

caf::actor spawn_router_supervisor(caf::actor_system& sys, router_supervisor_setup setup) {
  return sys.spawn(router_supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
