#pragma once
/// The step actor of a batched model (TorchScript or synthetic): serves `classify` (the first page, turned
/// upright by its known rotation) or `orient` (every page; the label with the highest probability is the
/// page's clockwise rotation: labels "0", "90", "180", "270"). Each page is one job in the model's batcher, so
/// pages and requests of every pipeline batch together.
/// Interface: step_actor (interfaces.hpp). Timing: its queue wait runs from its arrival to the start of its
/// first page's batch, its compute from there to the end of its last page's batch.

#include <string>
#include <vector>

#include "actors/interfaces.hpp"

namespace infermesh {

struct model_step_setup {
  step_kind step = step_kind::classify;  ///< classify or orient
  batcher_actor batcher;
  std::string model_name;
  std::string model_version;
  std::vector<std::string> labels;
};

step_actor spawn_model_step(caf::actor_system& sys, model_step_setup setup);

/// The classification of `scores` under `labels` (the most probable label wins).
classification classify_scores(const std::vector<std::string>& labels, const std::vector<float>& scores);

}  // namespace infermesh
