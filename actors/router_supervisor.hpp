#pragma once
/// The router's supervisor (one_for_one at the node: the router restarts alone), through the one lifecycle
/// (supervised_child.hpp). It is the node's stable front door — NATS callbacks, the stats reporter and the
/// graceful drain address it — and passes every message on to the current router (interface: router_actor).
/// When the router dies, a fresh one (same setup, an empty reply cache) starts after the back-off; requests
/// arriving meanwhile wait for it (up to `max_waiting`, and not while unhealthy; the others get no answer
/// from this node, like the requests the dead router held: core clients retry them with the same id, the work
/// queue redelivers durable ones after the ack wait). Past the restart intensity: `on_health(false)` (the
/// node stops taking every op) and one restart per period.

#include <functional>

#include "actors/lifecycle.hpp"
#include "actors/router.hpp"

namespace infermesh {

struct router_supervisor_setup {
  router_setup router;
  supervision_config supervision;
  std::size_t max_waiting = 10000;
  std::function<void(bool healthy)> on_health;
  std::function<void(const lifecycle&)> on_ready;      ///< a router serves (first, or a replacement)
  std::function<void(const caf::actor&)> on_spawned;  ///< (fault door)
};

router_actor spawn_router_supervisor(caf::actor_system& sys, router_supervisor_setup setup);

}  // namespace infermesh
