#include "actors/classify_result.hpp"

#include <algorithm>

namespace infermesh {

value classify_result(const std::vector<std::string>& labels, const std::vector<float>& probabilities) {
  const std::size_t n = std::min(labels.size(), probabilities.size());
  std::size_t best = 0;
  value_map scores;
  scores.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    scores.emplace_back(labels[i], static_cast<double>(probabilities[i]));
    if (probabilities[i] > probabilities[best]) best = i;
  }
  if (n == 0) return value_map{{"doc_type", value{}}, {"confidence", 0.0}, {"scores", std::move(scores)}};
  return value_map{{"doc_type", labels[best]},
                   {"confidence", static_cast<double>(probabilities[best])},
                   {"scores", std::move(scores)}};
}

}  // namespace infermesh
