#include "actors/model_supervisor.hpp"

#include "actors/child_supervision.hpp"

namespace infermesh {
namespace {

using supervisor_impl = supervised_model_actor::extend<caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;

struct supervisor_state {
  child_supervision<model_actor, tensor_batch, batch_run_result> model;
  static inline const char* name = "model-supervisor";
};

using self_ptr = supervisor_impl::stateful_pointer<supervisor_state>;

supervisor_impl::behavior_type supervisor_behavior(self_ptr self, model_supervisor_setup setup) {
  self->set_down_handler([=](caf::down_msg& down) { self->state.model.on_down(self, down); });
  self->state.model.start(
      self,
      {{"model '" + setup.model_name + "'", setup.supervision, setup.respawn, setup.on_health, setup.on_ready,
        setup.on_spawned},
       setup.first,
       [](error e) { return batch_run_result{std::move(e), {}, 0, false}; },
       // A batch its model died under is answered at once: the batcher runs each of its requests alone.
       [](error e) { return batch_run_result{std::move(e), {}, 0, true}; }},
      run_atom::value);
  return {
      [=](run_atom a, tensor_batch& batch) { return self->state.model.admit(self, std::move(batch), a); },
      [=](ping_atom) { return self->state.model.ready(self); },
      [=](status_atom) {
        const auto& life = self->state.model.child().life();
        return child_status{life.state(), life.reason(), life.healthy(), life.restarts(), life.max_recovery_ms()};
      },
      [=](supervise_atom, std::uint64_t, std::uint64_t timer) { self->state.model.on_timer(self, timer); },
  };
}

}  // namespace

supervised_model_actor spawn_model_supervisor(caf::actor_system& sys, model_supervisor_setup setup) {
  return sys.spawn(supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
