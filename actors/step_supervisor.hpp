#pragma once
/// The supervisor of a step server: an OCR pool (one_for_all: the pool and its engine workers restart
/// together) or a batched model's step actor. It speaks the step interface (step_actor), so the router never
/// sees a step server come and go, and keeps every step request until it is answered: when the server dies,
/// what it held goes to its replacement once it serves (a pool's engines load on their own threads), at most
/// `max_attempts` times (child_supervision.hpp: the one lifecycle, plus held jobs).

#include <functional>
#include <string>

#include "actors/interfaces.hpp"
#include "actors/lifecycle.hpp"

namespace infermesh {

struct step_supervisor_setup {
  std::string what;                       ///< "the OCR pool of model 'x'": in messages
  supervision_config supervision;
  step_actor first;                       ///< the server as started (engines already loaded)
  std::function<step_actor()> respawn;    ///< a fresh server whose engines load themselves
  std::function<void(bool healthy)> on_health;
  std::function<void(const lifecycle&)> on_ready;
  std::function<void(const caf::actor&)> on_spawned;  ///< (fault door)
};

step_actor spawn_step_supervisor(caf::actor_system& sys, step_supervisor_setup setup);

}  // namespace infermesh
