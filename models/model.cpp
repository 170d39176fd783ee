#include "models/model.hpp"

#include "models/synthetic_model.hpp"
#include "models/torch_model.hpp"

namespace infermesh {

outcome<std::unique_ptr<model>> load_model(const model_config& config) {
  if (config.backend == model_config::backend_kind::synthetic)
    return std::unique_ptr<model>(std::make_unique<synthetic_model>(config));
  return load_torch_model(config);
}

}  // namespace infermesh
