#include "actors/batcher_supervisor.hpp"

#include "actors/child_supervision.hpp"

namespace infermesh {
namespace {

using supervisor_impl = batcher_actor::extend<caf::reacts_to<supervise_atom, std::uint64_t, std::uint64_t>>;

struct supervisor_state {
  child_supervision<batcher_actor, infer_job, item_result> group;
  static inline const char* name = "batcher-supervisor";
};

using self_ptr = supervisor_impl::stateful_pointer<supervisor_state>;

supervisor_impl::behavior_type supervisor_behavior(self_ptr self, batcher_supervisor_setup setup) {
  self->set_down_handler([=](caf::down_msg& down) { self->state.group.on_down(self, down); });
  self->state.group.start(self,
                          {{"the batcher of model '" + setup.model_name + "'", setup.supervision, setup.respawn,
                            setup.on_health, setup.on_ready, setup.on_spawned},
                           setup.first,
                           [](error e) { return item_result::failed(e.code, std::move(e.message)); }},
                          infer_atom::value);
  return {
      [=](infer_atom a, infer_job& job) { return self->state.group.admit(self, std::move(job), a); },
      [=](stats_atom a) -> caf::result<batcher_stats> {
        const auto& child = self->state.group.child();
        if (!child.child()) {
          batcher_stats s;
          s.model = {child.life().state(), child.life().reason(), child.life().healthy(), 0, 0};
          return s;
        }
        return self->delegate(child.child(), a);
      },
      [=](ping_atom) { return true; },
      [=](supervise_atom, std::uint64_t, std::uint64_t timer) { self->state.group.on_timer(self, timer); },
  };
}

}  // namespace

batcher_actor spawn_batcher_supervisor(caf::actor_system& sys, batcher_supervisor_setup setup) {
  return sys.spawn(supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
