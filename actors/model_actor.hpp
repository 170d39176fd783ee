#pragma once
/// The model actor: the only owner of a loaded model. Spawned detached: a forward pass blocks its thread,
/// never a CAF scheduler thread. Its model supervisor (model_supervisor.hpp) restarts it; a replacement loads
/// the model again on its own thread (`loader`), so a restart never blocks anyone.
/// Interface: model_actor (interfaces.hpp); `ping` is answered once the model is loaded.

#include <functional>
#include <memory>

#include "actors/interfaces.hpp"

namespace infermesh {

/// Loads (and warms up) the model afresh; used by every replacement of a crashed model actor.
using model_loader = std::function<outcome<std::unique_ptr<model>>()>;

/// Spawns a detached model actor that owns `loaded` when given (the node loaded it at start-up to fail early),
/// else loads it with `loader` on its own thread first; a load that fails stops the actor with that error.
model_actor spawn_model_actor(caf::actor_system& sys, std::shared_ptr<model> loaded, model_loader loader = {});

}  // namespace infermesh
