#include "actors/ocr_pool.hpp"

namespace infermesh {
namespace {

struct ocr_state {
  std::shared_ptr<tesseract_ocr> engine;
  static inline const char* name = "ocr_worker";
};

ocr_actor::behavior_type ocr_worker(ocr_actor::stateful_pointer<ocr_state> self,
                                    std::shared_ptr<tesseract_ocr> engine) {
  self->state.engine = std::move(engine);
  return {
      [=](ocr_atom, const shared_bytes& image, bool auto_rotate) -> ocr_result {
        const auto started = std::chrono::steady_clock::now();
        auto page = self->state.engine->read(image, auto_rotate);
        const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - started;
        if (!page) return {page.err(), {}, took.count()};
        return {std::nullopt, std::move(*page), took.count()};
      },
      [=](orient_atom, const shared_bytes& image) -> orient_result {
        auto rotation = self->state.engine->orientation(image);
        if (!rotation) return {rotation.err(), {}};
        return {std::nullopt, *rotation};
      },
  };
}

}  // namespace

caf::actor spawn_ocr_pool(caf::actor_system& sys, std::vector<std::shared_ptr<tesseract_ocr>> engines) {
  auto shared = std::make_shared<std::vector<std::shared_ptr<tesseract_ocr>>>(std::move(engines));
  auto next = std::make_shared<std::size_t>(0);
  auto factory = [&sys, shared, next] {
    return caf::actor_cast<caf::actor>(sys.spawn<caf::detached>(ocr_worker, (*shared)[(*next)++]));
  };
  return caf::actor_pool::make(sys.dummy_execution_unit(), shared->size(), factory, caf::actor_pool::round_robin());
}

}  // namespace infermesh
