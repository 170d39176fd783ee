#pragma once
/// The model supervisor: restarts one model actor through the one lifecycle (lifecycle.hpp,
/// supervised_child.hpp) and speaks its interface, so the batcher never sees a model come and go.
/// Interface: supervised_model_actor (interfaces.hpp).
///
/// A batch that arrives while the model serves goes to it; while a replacement loads (or waits for its
/// back-off) the batch waits here and goes to the replacement once it serves; a batch the model died under is
/// answered with `model_died` (the batcher retries its requests alone). Unhealthy (past the restart intensity)
/// or stopped, batches are answered `unavailable` (child_supervision.hpp). `(ping_atom)` is answered once a
/// model actor serves; `(status_atom)` reports the lifecycle.

#include <functional>
#include <string>

#include "actors/interfaces.hpp"
#include "actors/lifecycle.hpp"

namespace infermesh {

struct model_supervisor_setup {
  std::string model_name;
  supervision_config supervision;
  model_actor first;                         ///< as started (the node loaded it at start-up to fail early)
  std::function<model_actor()> respawn;      ///< a fresh actor that loads the model itself; empty: no restarts
  std::function<void(bool healthy)> on_health;
  std::function<void(const lifecycle&)> on_ready;      ///< a model actor serves (first, or a replacement)
  std::function<void(const caf::actor&)> on_spawned;  ///< (fault door)
};

supervised_model_actor spawn_model_supervisor(caf::actor_system& sys, model_supervisor_setup setup);

}  // namespace infermesh
