#include "models/synthetic_model.hpp"

#include <cmath>
#include <thread>

namespace infermesh {

synthetic_model::synthetic_model(model_config config) : config_(std::move(config)) {
  std::this_thread::sleep_for(config_.synthetic.load_time);
}

outcome<batch_scores> synthetic_model::run(const tensor_batch& batch) {
  std::this_thread::sleep_for(config_.synthetic.latency +
                              config_.synthetic.per_item_latency * static_cast<long>(batch.count));
  if (failures_left_ > 0 && failures_left_.fetch_sub(1) > 0)
    return error{error_code::internal, "synthetic model '" + config_.name + "' failed as injected"};
  const std::size_t classes = std::max<std::size_t>(config_.labels.size(), 1);
  const std::size_t item = batch.count ? batch.data.size() / batch.count : 0;
  batch_scores scores{batch.count, classes, std::vector<float>(batch.count * classes)};
  for (std::size_t i = 0; i < batch.count; ++i) {
    double mean = 0;
    for (std::size_t k = 0; k < item; ++k) mean += batch.data[i * item + k];
    mean = item ? mean / static_cast<double>(item) : 0;
    if (config_.synthetic.poison_mean_above && mean > *config_.synthetic.poison_mean_above)
      return error{error_code::internal, "synthetic model '" + config_.name + "' cannot digest input " +
                                             std::to_string(i) + " of its batch (poison)"};
    // A softmax over logits that depend on the input, so the top class follows the image's brightness.
    double total = 0;
    std::vector<double> e(classes);
    for (std::size_t c = 0; c < classes; ++c) total += e[c] = std::exp(-std::abs(mean - static_cast<double>(c)));
    for (std::size_t c = 0; c < classes; ++c) scores.data[i * classes + c] = static_cast<float>(e[c] / total);
  }
  return scores;
}

}  // namespace infermesh
