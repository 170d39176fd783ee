#pragma once
/// The batcher actor: a thin shell around `batching_policy`. It admits requests (or answers `overloaded` at
/// once), sends each image to the preprocessing pool, feeds ready tensors to the policy, runs the batches the
/// policy forms on the model actor (one at a time), and answers every admitted request exactly once:
/// scores, `deadline_exceeded` (dropped before compute), or the preprocessing/model error.
/// On success the batcher owns the request until it answers it.

#include <string>

#include "actors/batching_policy.hpp"
#include "actors/protocol.hpp"

namespace infermesh {

struct batcher_setup {
  std::string model_name;   ///< for error messages
  batching_config batching;
  input_spec input;
  model_actor model;
  caf::actor preprocessors;  ///< see spawn_preprocessor_pool
};

batcher_actor spawn_batcher(caf::actor_system& sys, batcher_setup setup);

}  // namespace infermesh
