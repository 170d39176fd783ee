#pragma once
// Actor-level test helpers: a model as the node runs it (a model actor behind its model supervisor).

#include <memory>

#include "actors/model_actor.hpp"
#include "actors/model_supervisor.hpp"

namespace infermesh::test {

/// `m` in a model actor under a model supervisor (with `supervision`; restarts load `m` again).
inline supervised_model_actor supervised_model(caf::actor_system& sys, std::shared_ptr<model> m,
                                               supervision_config supervision = {}) {
  model_supervisor_setup s;
  s.model_name = "synthetic";
  s.supervision = supervision;
  s.first = spawn_model_actor(sys, m);
  s.respawn = [&sys, m] { return spawn_model_actor(sys, m); };
  return spawn_model_supervisor(sys, std::move(s));
}

}  // namespace infermesh::test
