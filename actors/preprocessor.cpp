#include "actors/preprocessor.hpp"

#include "models/image_preprocess.hpp"

namespace infermesh {
namespace {

preprocess_actor::behavior_type preprocess_worker() {
  return {
      [](prep_atom, const shared_bytes& image, const input_spec& spec) -> preprocessed {
        auto tensor = preprocess_image(image, spec);
        if (!tensor) return {tensor.err(), {}};
        return {std::nullopt, std::move(*tensor)};
      },
  };
}

}  // namespace

caf::actor spawn_preprocessor_pool(caf::actor_system& sys, std::size_t workers) {
  use_single_threaded_image_codecs();
  auto factory = [&sys] { return caf::actor_cast<caf::actor>(sys.spawn<caf::detached>(preprocess_worker)); };
  return caf::actor_pool::make(sys.dummy_execution_unit(), std::max<std::size_t>(workers, 1), factory,
                               caf::actor_pool::round_robin());
}

}  // namespace infermesh
