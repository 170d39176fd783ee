#include "models/model.hpp"

#include "models/synthetic_model.hpp"
#include "models/torch_model.hpp"

namespace infermesh {

outcome<std::unique_ptr<model>> load_model(const model_config& config) {
  if (config.backend == model_config::backend_kind::synthetic)
    return std::unique_ptr<model>(std::make_unique<synthetic_model>(config));
  return load_torch_model(config);
}

page_rotation rotation_from_scores(const std::vector<std::string>& labels, const std::vector<float>& scores) {
  page_rotation best{0, -1, false};
  for (std::size_t i = 0; i < std::min(labels.size(), scores.size()); ++i) {
    const auto& l = labels[i];
    if (l != "0" && l != "90" && l != "180" && l != "270") continue;
    if (scores[i] > best.confidence) best = {std::stoi(l), scores[i], false};
  }
  if (best.confidence < 0) best.confidence = 0;
  return best;
}

}  // namespace infermesh
