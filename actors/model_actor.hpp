#pragma once
/// The model actor: the only owner of a loaded model. Spawn it detached: a forward pass blocks its thread,
/// never a CAF scheduler thread.

#include <memory>

#include "actors/protocol.hpp"

namespace infermesh {

/// Spawns a detached model actor that owns `loaded` (shared only so the spawn can copy the handle).
model_actor spawn_model_actor(caf::actor_system& sys, std::shared_ptr<model> loaded);

}  // namespace infermesh
