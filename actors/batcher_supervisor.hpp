#pragma once
/// The supervisor of a model's group: its batcher and the model supervisor + model actor behind it
/// (one_for_all: when the batcher dies, its model goes with it and a fresh group is spawned). Independent
/// models are independent groups (one_for_one at the node). Inside the group the model supervisor restarts a
/// model actor alone, under the batcher's queue.
///
/// It speaks the batcher's interface (batcher_actor), so steps and stats never see a batcher come and go, and
/// keeps every job it passed on until that job is answered: when the batcher dies, the jobs it held go to its
/// replacement (child_supervision.hpp: the one lifecycle, plus held jobs).

#include <functional>
#include <string>

#include "actors/batcher.hpp"
#include "actors/lifecycle.hpp"

namespace infermesh {

struct batcher_supervisor_setup {
  std::string model_name;
  supervision_config supervision;
  batcher_actor first;                      ///< the group as started (its model already loaded)
  std::function<batcher_actor()> respawn;   ///< a fresh group: a batcher with a model that loads itself
  std::function<void(bool healthy)> on_health;
  std::function<void(const lifecycle&)> on_ready;       ///< a batcher serves (first, or a replacement)
  std::function<void(const caf::actor&)> on_spawned;   ///< (fault door)
};

batcher_actor spawn_batcher_supervisor(caf::actor_system& sys, batcher_supervisor_setup setup);

}  // namespace infermesh
