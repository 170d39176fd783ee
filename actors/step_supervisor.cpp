#include "actors/step_supervisor.hpp"

#include "actors/child_supervision.hpp"

namespace infermesh {
namespace {

struct step_supervisor_state {
  child_supervision<caf::actor, step_request, step_reply> group;
  static inline const char* name = "step-supervisor";
};

using self_ptr = caf::stateful_actor<step_supervisor_state>*;

caf::behavior step_supervisor_behavior(self_ptr self, step_supervisor_setup setup) {
  const std::string crash = "crash-" + setup.kind;
  const bool forward = setup.forward_faults;
  self->set_down_handler([=](caf::down_msg& down) { self->state.group.on_down(self, down); });
  // No timeout on the jobs: the router's request carries the deadline, and the pool drops pages past it.
  self->state.group.start(self,
                          {"the " + setup.kind + " of model '" + setup.model_name + "'",
                           {setup.supervision, setup.first, setup.respawn, setup.on_health, setup.on_restarted},
                           [](error e) { return step_reply::failed(std::move(e)); }},
                          step_atom::value);
  return {
      [=](step_atom a, step_request& req) { return self->state.group.admit(self, std::move(req), a); },
      [=](fault_atom, const std::string& action, std::int64_t value) {
        if (action == crash || forward) self->state.group.fault(self, action, value, crash);
      },
      [=](restart_atom, std::uint64_t generation) { self->state.group.restart(self, generation, step_atom::value); },
  };
}

}  // namespace

caf::actor spawn_step_supervisor(caf::actor_system& sys, step_supervisor_setup setup) {
  return sys.spawn(step_supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
