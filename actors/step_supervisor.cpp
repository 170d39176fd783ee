#include "actors/step_supervisor.hpp"

#include "actors/child_supervision.hpp"

namespace infermesh {
namespace {

using supervisor = job_supervisor<step_actor, step_request, step_reply>;

supervisor::impl::behavior_type step_supervisor_behavior(supervisor::pointer self, step_supervisor_setup setup) {
  // No timeout on the jobs: the router's request carries the deadline, and the server drops work past it.
  supervisor::start(self,
                    {{setup.what, setup.supervision, setup.respawn, setup.on_health, setup.on_ready, setup.on_spawned},
                     setup.first,
                     [](error e) { return step_reply::failed(std::move(e)); }},
                    step_atom::value);
  return {
      [=](step_atom a, step_request& req) { return self->state.group.admit(self, std::move(req), a); },
      supervisor::readiness(self),
      supervisor::timers(self),
  };
}

}  // namespace

step_actor spawn_step_supervisor(caf::actor_system& sys, step_supervisor_setup setup) {
  return sys.spawn(step_supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
