#include "actors/preprocessor.hpp"

#include "models/image_preprocess.hpp"

namespace infermesh {
namespace {

// Every spawned behaviour takes at least one argument: CAF 0.17's spawn without arguments dereferences a null
// shared_ptr<tuple<>> (harmless in practice, but undefined behaviour that UBSan stops on).
preprocess_actor::behavior_type preprocess_worker(std::size_t /*index*/) {
  return {
      [](prep_atom, const shared_bytes& image, const input_spec& spec, int upright_rotation) -> preprocessed {
        auto tensor = preprocess_image(image, spec, upright_rotation);
        if (!tensor) return {tensor.err(), {}};
        return {std::nullopt, std::move(*tensor)};
      },
      [](split_atom, const shared_bytes& document, int max_pages, const document_limits& limits) -> split_result {
        auto split = split_pages(document, max_pages, limits);
        if (!split) return {split.err(), {}, 0};
        return {std::nullopt, std::move(split->pages), split->total_pages};
      },
  };
}

}  // namespace

preprocess_actor spawn_preprocessor_pool(caf::actor_system& sys, std::size_t workers) {
  use_single_threaded_image_codecs();
  auto index = std::make_shared<std::size_t>(0);
  auto factory = [&sys, index] {
    return caf::actor_cast<caf::actor>(sys.spawn<caf::detached>(preprocess_worker, (*index)++));
  };
  return caf::actor_cast<preprocess_actor>(caf::actor_pool::make(
      sys.dummy_execution_unit(), std::max<std::size_t>(workers, 1), factory, caf::actor_pool::round_robin()));
}

}  // namespace infermesh
