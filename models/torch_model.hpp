#pragma once
/// The TorchScript back-end. The only header that names it; its .cpp is one of the two that include LibTorch.

#include <memory>

#include "models/model.hpp"

namespace infermesh {

/// Loads `config.path` with torch::jit::load on `config.device`, sets intra-op threads, and runs a warm-up
/// forward. Fails with a clear message for `cuda:N` on a build without CUDA.
outcome<std::unique_ptr<model>> load_torch_model(const model_config& config);

}  // namespace infermesh
