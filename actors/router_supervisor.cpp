#include "actors/router_supervisor.hpp"

#include <vector>

#include "actors/supervised_child.hpp"

namespace infermesh {
namespace {

using supervisor_impl = router_actor::extend<caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;

struct router_supervisor_state {
  std::size_t max_waiting = 0;
  supervised_child<router_actor> router;
  std::vector<caf::message> waiting;  ///< arrived while no router served
  bool draining = false;
  static inline const char* name = "router-supervisor";
};

using self_ptr = supervisor_impl::stateful_pointer<router_supervisor_state>;

void pass_on(self_ptr self, caf::message m) {
  auto& st = self->state;
  if (st.router.serving()) return caf::anon_send(caf::actor_cast<caf::actor>(st.router.child()), std::move(m));
  // Unhealthy, the wait is a whole period: let clients retry elsewhere (the node is unsubscribing) rather
  // than answer late. A durable request dropped here is redelivered after the ack wait.
  if (st.router.healthy() && st.waiting.size() < st.max_waiting) st.waiting.push_back(std::move(m));
}

/// A router serves (again): it drains if the node does, and takes what arrived meanwhile.
void catch_up(self_ptr self) {
  auto& st = self->state;
  if (st.draining) self->send(st.router.child(), drain_atom::value);
  const auto router = caf::actor_cast<caf::actor>(st.router.child());
  for (auto& m : st.waiting) caf::anon_send(router, std::move(m));  // (these take no reply)
  st.waiting.clear();
}

supervisor_impl::behavior_type router_supervisor_behavior(self_ptr self, router_supervisor_setup setup) {
  auto& st = self->state;
  st.max_waiting = setup.max_waiting;
  caf::actor_system* sys = &self->system();
  auto respawn = [sys, router = setup.router] { return spawn_router(*sys, router); };
  auto on_ready = setup.on_ready;
  st.router.start(self,
                  {"the router", setup.supervision, respawn, setup.on_health,
                   [self, on_ready](const lifecycle& life) {
                     if (on_ready) on_ready(life);
                     catch_up(self);
                   },
                   setup.on_spawned},
                  respawn());
  self->set_down_handler([=](caf::down_msg& down) { self->state.router.on_down(self, down); });
  return {
      [=](incoming_atom a, const std::string& op, const shared_bytes& payload, const std::string& reply,
          steady_time received, const backlog_ticket& ticket) {
        pass_on(self, caf::make_message(a, op, payload, reply, received, ticket));
      },
      [=](durable_atom a, const std::string& op, const shared_bytes& payload, std::uint64_t delivered,
          const acknowledger& ack, steady_time received) {
        pass_on(self, caf::make_message(a, op, payload, delivered, ack, received));
      },
      [=](drain_atom a) {
        self->state.draining = true;
        if (self->state.router.serving()) self->send(self->state.router.child(), a);
      },
      [=](stats_atom a) -> caf::result<router_stats> {
        auto& st = self->state;
        if (!st.router.serving()) {  // what waits for the next router is in flight (a drain waits for it)
          router_stats s;
          s.in_flight = st.waiting.size() + (st.router.healthy() ? 1 : 0);
          return s;
        }
        auto promise = self->make_response_promise<router_stats>();
        self->request(self->state.router.child(), std::chrono::seconds(5), a)
            .then([=](router_stats& s) mutable { promise.deliver(std::move(s)); },
                  [=](caf::error&) mutable { promise.deliver(router_stats{}); });  // it died meanwhile
        return promise;
      },
      [=](ping_atom) { return true; },
      [=](supervise_atom, std::uint64_t, std::uint64_t timer) { self->state.router.on_timer(self, timer); },
  };
}

}  // namespace

router_actor spawn_router_supervisor(caf::actor_system& sys, router_supervisor_setup setup) {
  return sys.spawn(router_supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
