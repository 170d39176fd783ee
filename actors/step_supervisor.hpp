#pragma once
/// The supervisor of an OCR pool (one_for_all: the pool and its engine workers, linked to it, restart
/// together). It speaks the step protocol, so the router never sees a pool come and go, and keeps every step
/// request until it is answered: when the pool dies, what it held goes to its replacement (whose engines load
/// on their own threads), at most `max_attempts` times. Restarts back off like a model's; past the intensity
/// `on_health(false)` (the node stops taking the ops that need the model) and one restart per period.
/// (step_atom, step_request) -> step_reply; (fault_atom, "crash-pool", _) kills the pool (tests, simulations);
/// other faults go to the pool ("crash" kills one of its workers, which the pool itself replaces).

#include <functional>
#include <string>

#include "actors/protocol.hpp"
#include "actors/restart_intensity.hpp"

namespace infermesh {

struct step_supervisor_setup {
  std::string model_name;
  supervision_config supervision;
  caf::actor first;                       ///< the pool as started (engines already loaded)
  std::function<caf::actor()> respawn;    ///< a fresh pool whose engines load themselves
  std::function<void(bool healthy)> on_health;
  std::function<void()> on_restarted;
};

caf::actor spawn_step_supervisor(caf::actor_system& sys, step_supervisor_setup setup);

}  // namespace infermesh
