#pragma once
/// A back-end for tests and simulations with the model interface and no weights: it sleeps a configured
/// latency per batch (+ per item) and scores each input from its pixel mean, so different inputs get
/// different, reproducible answers. Failures are injected by the caller (`fail_next`).

#include <atomic>
#include <memory>

#include "models/model.hpp"

namespace infermesh {

class synthetic_model final : public model {
 public:
  /// Takes `synthetic.load_time` to "load", as a big model does.
  explicit synthetic_model(model_config config);

  outcome<batch_scores> run(const tensor_batch& batch) override;

  /// The next `n` calls of `run` fail with `internal`. Any thread may call it.
  void fail_next(int n) { failures_left_ = n; }

 private:
  model_config config_;
  std::atomic<int> failures_left_{0};
};

}  // namespace infermesh
