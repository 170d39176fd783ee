#include "actors/model_actor.hpp"

namespace infermesh {
namespace {

struct model_state {
  std::shared_ptr<model> loaded;
  static inline const char* name = "model";
};

model_actor::behavior_type model_behavior(model_actor::stateful_pointer<model_state> self,
                                          std::shared_ptr<model> loaded, model_loader loader) {
  if (!loaded && loader) {  // a replacement: load on this (detached) thread
    auto fresh = loader();
    if (!fresh) {
      self->quit(caf::make_error(caf::sec::runtime_error, fresh.err().message));
      return model_actor::behavior_type::make_empty_behavior();
    }
    loaded = std::move(*fresh);
  }
  self->state.loaded = std::move(loaded);
  return {
      [=](run_atom, const tensor_batch& batch) -> batch_run_result {
        const auto started = std::chrono::steady_clock::now();
        auto out = self->state.loaded->run(batch);
        const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
        if (!out) return {out.err(), {}, took.count()};
        return {std::nullopt, std::move(*out), took.count()};
      },
      [=](ping_atom) { return true; },
  };
}

}  // namespace

model_actor spawn_model_actor(caf::actor_system& sys, std::shared_ptr<model> loaded, model_loader loader) {
  return sys.spawn<caf::detached>(model_behavior, std::move(loaded), std::move(loader));
}

}  // namespace infermesh
