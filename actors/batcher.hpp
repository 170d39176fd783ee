#pragma once
/// The batcher actor: a thin shell around `batching_policy`. It admits requests (or answers `overloaded` at
/// once), sends each image to the preprocessing pool, feeds ready tensors to the policy, runs the batches the
/// policy forms on its model (one at a time), and answers every admitted request exactly once: scores,
/// `deadline_exceeded` (dropped before compute), or the preprocessing/model error. On success the batcher owns
/// the request until it answers it. Interface: batcher_actor (interfaces.hpp); its timers are internal.
///
/// Failure: a batch that fails comes back split — each of its requests runs alone, so one poison input fails
/// alone (`internal`) and the rest succeed. A request whose model died under it (`model_died`) runs again,
/// up to `max_attempts` deaths. A model that is unhealthy answers `unavailable`, and so does the batcher.
/// Restarting the model is its model supervisor's job (model_supervisor.hpp): the batcher holds only a handle
/// to it, and while a replacement loads its batch waits there. The batcher's own death takes its model with it
/// (one_for_all: batcher_supervisor.hpp restarts the pair).
/// Time is read from the actor system's clock (CAF's virtual clock in tests).

#include <functional>
#include <string>
#include <vector>

#include "actors/batching_policy.hpp"
#include "actors/interfaces.hpp"

namespace infermesh {

/// One batch that ran on the model (told to `batcher_setup::on_batch`).
struct batch_timing {
  std::size_t size = 0;
  double compute_s = 0;               ///< its forward pass, as the model actor measured it
  std::vector<double> queue_waits_s;  ///< per request: reached the batcher -> the batch started
};

struct batcher_setup {
  std::string model_name;   ///< for error messages
  batching_config batching;
  input_spec input;
  supervised_model_actor model;  ///< the model supervisor (spawn_model_supervisor)
  preprocess_actor preprocessors;
  int max_attempts = supervision_config{}.max_attempts;  ///< model deaths one request may live through
  /// Told of every batch that ran (not of failed ones), on the batcher's thread (metrics). Must not block;
  /// null: nobody.
  std::function<void(const batch_timing&)> on_batch;
};

batcher_actor spawn_batcher(caf::actor_system& sys, batcher_setup setup);

}  // namespace infermesh
