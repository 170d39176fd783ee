#include "actors/step_supervisor.hpp"

#include "actors/child_supervision.hpp"

namespace infermesh {
namespace {

using supervisor_impl = step_actor::extend<caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;

struct step_supervisor_state {
  child_supervision<step_actor, step_request, step_reply> group;
  static inline const char* name = "step-supervisor";
};

using self_ptr = supervisor_impl::stateful_pointer<step_supervisor_state>;

supervisor_impl::behavior_type step_supervisor_behavior(self_ptr self, step_supervisor_setup setup) {
  self->set_down_handler([=](caf::down_msg& down) { self->state.group.on_down(self, down); });
  // No timeout on the jobs: the router's request carries the deadline, and the server drops work past it.
  self->state.group.start(self,
                          {{setup.what, setup.supervision, setup.respawn, setup.on_health, setup.on_ready,
                            setup.on_spawned},
                           setup.first,
                           [](error e) { return step_reply::failed(std::move(e)); }},
                          step_atom::value);
  return {
      [=](step_atom a, step_request& req) { return self->state.group.admit(self, std::move(req), a); },
      [=](ping_atom) { return true; },
      [=](supervise_atom, std::uint64_t, std::uint64_t timer) { self->state.group.on_timer(self, timer); },
  };
}

}  // namespace

step_actor spawn_step_supervisor(caf::actor_system& sys, step_supervisor_setup setup) {
  return sys.spawn(step_supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
