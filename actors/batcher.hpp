#pragma once
/// The batcher actor: a thin shell around `batching_policy`. It admits requests (or answers `overloaded` at
/// once), sends each image to the preprocessing pool, feeds ready tensors to the policy, runs the batches the
/// policy forms on the model actor (one at a time), and answers every admitted request exactly once:
/// scores, `deadline_exceeded` (dropped before compute), or the preprocessing/model error.
/// On success the batcher owns the request until it answers it.
///
/// Supervision: the batcher is its model actor's supervisor (the model restarts alone; the batcher, which
/// holds the queue, lives on). When the model actor dies, the batch it held goes back into the queue, a
/// replacement is spawned after a back-off (doubling from `backoff` to `max_backoff`) and serves the queue as
/// soon as it has loaded the model. A batch that fails (or whose model died) comes back split: each of its
/// requests runs alone, so one poison input fails alone (`internal`) and the rest succeed; a request whose
/// model died under it `max_attempts` times is answered `internal`. More than `max_restarts` restarts within
/// `period` make the model unhealthy: queued requests are answered `unavailable`, `on_health(false)` tells the
/// node (which stops taking the ops that need this model), and one restart is tried per `period` until one
/// succeeds (`on_health(true)`). A replacement still loading `loading_grace` after its predecessor died also
/// calls `on_health(false)` (the queue is kept), and `on_health(true)` once it serves.

#include <functional>
#include <string>

#include "actors/batching_policy.hpp"
#include "actors/restart_intensity.hpp"
#include "actors/protocol.hpp"

namespace infermesh {

struct batcher_setup {
  std::string model_name;   ///< for error messages
  batching_config batching;
  input_spec input;
  model_actor model;
  caf::actor preprocessors;  ///< see spawn_preprocessor_pool
  supervision_config supervision;
  /// Spawns a replacement model actor (which loads the model on its own thread). Empty: no restarts.
  std::function<model_actor()> respawn;
  /// Called on the batcher's thread when the model becomes unhealthy (false) or healthy again (true).
  std::function<void(bool healthy)> on_health;
  /// Called on the batcher's thread when a replacement is ready, with the time since its predecessor died.
  std::function<void(double recovery_ms)> on_restarted;
};

batcher_actor spawn_batcher(caf::actor_system& sys, batcher_setup setup);

}  // namespace infermesh
