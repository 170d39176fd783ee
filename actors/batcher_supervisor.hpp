#pragma once
/// The supervisor of a model's group: its batcher and the model actor that batcher runs (one_for_all: when the
/// batcher dies, its model actor goes with it, and a fresh pair is spawned). Independent models are
/// independent groups (one_for_one at the node). Inside a group the batcher supervises its model actor
/// (batcher.hpp): a model that dies restarts alone, under the batcher's queue.
///
/// The supervisor speaks the batcher's protocol, so steps, stats and fault injection address it and never
/// see a batcher come and go. It keeps every job it passed on until that job is answered: when the batcher
/// dies, the jobs it held go to its replacement (a job whose batcher died under it `max_attempts` times is
/// answered `internal`). Restarts back off like a model's; more than `max_restarts` within `period` make the
/// group unhealthy (`on_health(false)`: the node stops taking the ops that need it, new jobs are answered
/// `unavailable`) and one restart is tried per `period`.
/// Fault action "crash-batcher" kills the batcher (tests, simulations); other faults go to the batcher.

#include <functional>
#include <string>

#include "actors/batcher.hpp"

namespace infermesh {

struct batcher_supervisor_setup {
  std::string model_name;
  supervision_config supervision;
  batcher_actor first;                      ///< the group as started (its model already loaded)
  std::function<batcher_actor()> respawn;   ///< a fresh group: a batcher with a model actor that loads itself
  std::function<void(bool healthy)> on_health;
  std::function<void()> on_restarted;       ///< a replacement batcher is running
};

batcher_actor spawn_batcher_supervisor(caf::actor_system& sys, batcher_supervisor_setup setup);

}  // namespace infermesh
