#include "actors/batcher_supervisor.hpp"

#include "actors/child_supervision.hpp"

namespace infermesh {
namespace {

struct supervisor_state {
  child_supervision<batcher_actor, infer_job, item_result> group;
  static inline const char* name = "batcher-supervisor";
};

using self_ptr = batcher_actor::stateful_pointer<supervisor_state>;

batcher_actor::behavior_type supervisor_behavior(self_ptr self, batcher_supervisor_setup setup) {
  self->set_down_handler([=](caf::down_msg& down) { self->state.group.on_down(self, down); });
  self->state.group.start(self,
                          {"the batcher of model '" + setup.model_name + "'",
                           {setup.supervision, setup.first, setup.respawn, setup.on_health, setup.on_restarted},
                           [](error e) { return item_result::failed(e.code, std::move(e.message)); }},
                          infer_atom::value);
  return {
      [=](infer_atom a, infer_job& job) { return self->state.group.admit(self, std::move(job), a); },
      [=](stats_atom a) -> caf::result<batcher_stats> {
        if (!self->state.group.child()) return batcher_stats{};
        return self->delegate(self->state.group.child(), a);
      },
      [=](fault_atom, const std::string& action, std::int64_t value) {
        self->state.group.fault(self, action, value, "crash-batcher");
      },
      [=](restart_atom, std::uint64_t generation) { self->state.group.restart(self, generation, infer_atom::value); },
      [=](wake_atom, std::uint64_t) {},     // (the batcher's own timer messages: not used here)
      [=](loading_atom, std::uint64_t) {},
  };
}

}  // namespace

batcher_actor spawn_batcher_supervisor(caf::actor_system& sys, batcher_supervisor_setup setup) {
  return sys.spawn(supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
