#pragma once
/// The router's supervisor (one_for_one at the node: the router restarts alone). It is the node's stable front
/// door — NATS callbacks, the stats reporter and the graceful drain address it — and passes every message on
/// to the current router. When the router dies, a fresh one (same setup, an empty reply cache) starts after the
/// back-off; requests arriving meanwhile wait for it (up to `max_waiting`, and not while unhealthy; the others
/// get no answer from this node, like the requests the dead router held: core clients retry them with the
/// same id, the work queue redelivers durable ones after the ack wait). More than `max_restarts` within `period`: `on_health(false)`
/// (the node stops taking every op) and one restart is tried per period (`on_health(true)` when one runs).
///
/// Messages: the router's (router.hpp), plus (fault_atom, "crash", value): kill the router (tests, simulations).

#include <functional>

#include "actors/restart_intensity.hpp"
#include "actors/router.hpp"

namespace infermesh {

struct router_supervisor_setup {
  router_setup router;
  supervision_config supervision;
  std::size_t max_waiting = 10000;
  std::function<void(bool healthy)> on_health;
  std::function<void()> on_restarted;  ///< a replacement router is running
};

caf::actor spawn_router_supervisor(caf::actor_system& sys, router_supervisor_setup setup);

}  // namespace infermesh
