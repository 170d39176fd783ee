#pragma once
/// The supervisor of a step server: an OCR pool (one_for_all: the pool and its engine workers restart
/// together) or a batched model's step actor. It speaks the step protocol, so the router never sees a step
/// server come and go, and keeps every step request until it is answered: when the server dies, what it held
/// goes to its replacement (a pool's engines load on their own threads), at most `max_attempts` times.
/// Restarts back off like a model's; past the intensity `on_health(false)` (the node stops taking the ops that
/// need the model) and one restart per period.
/// (step_atom, step_request) -> step_reply; (fault_atom, "crash-<kind>", _) kills the server (tests,
/// simulations); with `forward_faults`, other faults go to it (a pool's "crash" kills one of its workers).

#include <functional>
#include <string>

#include "actors/protocol.hpp"
#include "actors/restart_intensity.hpp"

namespace infermesh {

struct step_supervisor_setup {
  std::string model_name;
  std::string kind = "pool";             ///< "pool" or "step": messages and the crash action
  bool forward_faults = true;
  supervision_config supervision;
  caf::actor first;                       ///< the pool as started (engines already loaded)
  std::function<caf::actor()> respawn;    ///< a fresh pool whose engines load themselves
  std::function<void(bool healthy)> on_health;
  std::function<void()> on_restarted;
};

caf::actor spawn_step_supervisor(caf::actor_system& sys, step_supervisor_setup setup);

}  // namespace infermesh
