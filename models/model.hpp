#pragma once
/// The model seam: everything the runtime knows about a model. Back-ends (TorchScript, synthetic) live behind
/// it, so no actor includes LibTorch. A model is not thread-safe: only its model actor's thread calls `run`.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "messages/outcome.hpp"
#include "models/model_config.hpp"

namespace infermesh {

/// N preprocessed inputs of one shape, contiguous, NCHW float32.
struct tensor_batch {
  std::size_t count = 0;
  std::vector<std::int64_t> item_shape;  ///< {C, H, W}
  std::vector<float> data;               ///< count * C * H * W values
};

/// One row of class probabilities per input, row-major [count, classes].
struct batch_scores {
  std::size_t count = 0;
  std::size_t classes = 0;
  std::vector<float> data;
};

class model {
 public:
  virtual ~model() = default;
  /// One forward pass over the whole batch. Errors are `internal` with the back-end's message.
  virtual outcome<batch_scores> run(const tensor_batch& batch) = 0;
};

/// The rotation an orientation model's probabilities say (its labels are the clockwise degrees 0, 90, 180,
/// 270); confidence is the winning probability. Other labels are never chosen.
page_rotation rotation_from_scores(const std::vector<std::string>& labels, const std::vector<float>& scores);

/// Loads the back-end named by `config.backend`, checks its device, and warms it up. Errors name the problem
/// (missing file, CUDA on a CPU-only build, output size that does not match the labels).
outcome<std::unique_ptr<model>> load_model(const model_config& config);

}  // namespace infermesh
