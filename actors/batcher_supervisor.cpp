#include "actors/batcher_supervisor.hpp"

#include "actors/child_supervision.hpp"

namespace infermesh {
namespace {

using supervisor = job_supervisor<batcher_actor, infer_job, item_result>;

supervisor::impl::behavior_type supervisor_behavior(supervisor::pointer self, batcher_supervisor_setup setup) {
  supervisor::start(self,
                    {{"the batcher of model '" + setup.model_name + "'", setup.supervision, setup.respawn,
                      setup.on_health, setup.on_ready, setup.on_spawned},
                     setup.first,
                     [](error e) { return item_result::failed(e.code, std::move(e.message)); }},
                    infer_atom::value);
  return {
      [=](infer_atom a, infer_job& job) { return self->state.group.admit(self, std::move(job), a); },
      [=](stats_atom a) -> caf::result<batcher_stats> {  // the batcher's, or while none runs, the lifecycle's
        const auto& child = self->state.group.child();
        if (child.child()) return self->delegate(child.child(), a);
        batcher_stats s;
        s.model = {child.life().state(), child.life().reason(), child.life().healthy(), 0, 0};
        return s;
      },
      supervisor::readiness(self),
      supervisor::timers(self),
  };
}

}  // namespace

batcher_actor spawn_batcher_supervisor(caf::actor_system& sys, batcher_supervisor_setup setup) {
  return sys.spawn(supervisor_behavior, std::move(setup));
}

}  // namespace infermesh
