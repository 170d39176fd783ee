#pragma once
/// The parts of a node that host models, one per model kind, each built from its config entry:
///   batched (TorchScript, synthetic): a model slot (actors/model_slot.hpp: reload, unload, load, LRU) in
///     front of its current group: model actor → model supervisor → batcher → batcher supervisor, and the
///     model's step actor → step supervisor (batched_model_part.cpp);
///   tesseract: engine workers → OCR pool → step supervisor (ocr_model_part.cpp).
/// A part reports its model's health to `report_health`, logs its restarts, and, when the node has a fault
/// door, wires the door's hooks in (decorated model and engines, spawned-child hooks), and tells the node's
/// metrics hooks of restarts and batches. Called on the node's
/// start-up thread only.

#include <caf/all.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/batcher.hpp"
#include "actors/fault_door.hpp"
#include "actors/interfaces.hpp"
#include "actors/model_cache.hpp"
#include "actors/model_slot.hpp"
#include "messages/outcome.hpp"
#include "runtime/config.hpp"

namespace infermesh {

/// What every model part needs from the node.
struct part_context {
  caf::actor_system& system;
  preprocess_actor preprocessors;
  fault_door* door = nullptr;  ///< null: faults off
  /// `reporter` (a supervisor of the model: "model", "batcher", "step", "pool") found the model healthy or not.
  std::function<void(const std::string& model, const std::string& reporter, bool healthy)> report_health;
  /// Metrics (null: nobody): a replacement of one of `model`'s actors serves; a batch ran on `model`. Called on
  /// CAF threads; must not block.
  std::function<void(const std::string& model)> on_restart;
  std::function<void(const std::string& model, const batch_timing&)> on_batch;
  /// Metrics (null: nobody): `model` was loaded again (a replacement, a reload) in `seconds`, on the loading
  /// thread. The node times each part's start-up load itself.
  std::function<void(const std::string& model, double seconds)> on_load;
  /// `max_loaded_models` > 0: the node's model cache, which batched models' slots ask before loading.
  std::optional<model_cache_actor> cache;
  /// A batched model's slot changed phase (serving, loading, unloaded, evicted): readiness. Called on CAF
  /// threads; must not block.
  std::function<void(const std::string& model, slot_phase phase)> report_state;
};

/// A model's actors as the rest of the node uses them.
struct model_part {
  std::string name;
  std::map<step_kind, step_actor> steps;  ///< the pipeline steps it serves
  std::optional<batcher_actor> batcher;   ///< batched models: its batcher (stats; the slot, which asks the current one)
  std::optional<model_slot_actor> slot;   ///< batched models: the slot (reload, unload, load, status)
  std::vector<caf::actor> actors;         ///< to stop at shutdown
};

/// Loads and warms a batched model (to fail early) and starts its slot with the supervised actors behind it;
/// `load_now` false (past `max_loaded_models`): the slot starts evicted and loads on the first request.
outcome<model_part> start_batched_model(part_context& ctx, const hosted_model& hosted, bool load_now = true);
/// How a batched model's slot builds a group from `hosted` (a reload: the entry as the config file says now).
/// Blocks while the model loads: called on a detached helper's thread (or at start-up).
group_builder batched_group_builder(part_context ctx, hosted_model hosted);
/// Creates a Tesseract model's engines and starts its supervised pool.
outcome<model_part> start_ocr_model(part_context& ctx, const hosted_model& hosted);

/// Starts the part of `hosted`'s kind (`load_now`: batched models, see start_batched_model).
outcome<model_part> start_model(part_context& ctx, const hosted_model& hosted, bool load_now = true);

}  // namespace infermesh
