#include "actors/model_actor.hpp"

namespace infermesh {
namespace {

struct model_state {
  std::shared_ptr<model> loaded;
  static inline const char* name = "model";
};

model_actor::behavior_type model_behavior(model_actor::stateful_pointer<model_state> self,
                                          std::shared_ptr<model> loaded) {
  self->state.loaded = std::move(loaded);
  return {
      [=](run_atom, const tensor_batch& batch) -> batch_run_result {
        const auto started = std::chrono::steady_clock::now();
        auto out = self->state.loaded->run(batch);
        const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
        if (!out) return {out.err(), {}, took.count()};
        return {std::nullopt, std::move(*out), took.count()};
      },
  };
}

}  // namespace

model_actor spawn_model_actor(caf::actor_system& sys, std::shared_ptr<model> loaded) {
  return sys.spawn<caf::detached>(model_behavior, std::move(loaded));
}

}  // namespace infermesh
