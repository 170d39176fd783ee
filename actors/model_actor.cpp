#include "actors/model_actor.hpp"

#include <thread>

namespace infermesh {
namespace {

struct model_state {
  std::shared_ptr<model> loaded;
  std::chrono::milliseconds slow{0};  // injected: extra time per batch
  std::int64_t fail_next = 0;         // injected: batches left to fail
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
        auto& st = self->state;
        const auto started = std::chrono::steady_clock::now();
        if (st.slow.count() > 0) std::this_thread::sleep_for(st.slow);
        if (st.fail_next > 0) {
          --st.fail_next;
          return {error{error_code::internal, "injected failure of this batch"}, {}, 0};
        }
        auto out = st.loaded->run(batch);
        const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
        if (!out) return {out.err(), {}, took.count()};
        return {std::nullopt, std::move(*out), took.count()};
      },
      [=](ping_atom) { return true; },
      [=](fault_atom, const std::string& action, std::int64_t value) {
        auto& st = self->state;
        if (action == "slow") st.slow = std::chrono::milliseconds(value);
        else if (action == "fail") st.fail_next = value;
        else if (action == "heal") st.slow = std::chrono::milliseconds(0), st.fail_next = 0;
      },
  };
}

}  // namespace

model_actor spawn_model_actor(caf::actor_system& sys, std::shared_ptr<model> loaded, model_loader loader) {
  return sys.spawn<caf::detached>(model_behavior, std::move(loaded), std::move(loader));
}

}  // namespace infermesh
