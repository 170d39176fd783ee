#pragma once
/// The OCR model: one detached worker per OCR engine (TessBaseAPI is not thread-safe), behind one step
/// actor that serves the `ocr` step (and `orient`, by Tesseract OSD, when configured). A request's pages are
/// read in parallel; each page waits in one bounded queue (priority first, then arrival; past its deadline it
/// is dropped) until a worker is idle, so the least busy worker always takes the next page.
/// Interface: step_actor (interfaces.hpp); a full queue answers `overloaded` at once.
///
/// Supervision: each engine worker goes through the one lifecycle (supervised_child.hpp) with the model's
/// `supervision` keys: a worker that dies (a crash in Tesseract, the fault door) is replaced after its
/// back-off with a fresh engine, and the page it was reading goes back to the queue (at most `max_attempts`
/// times). The pool is healthy while every worker is (`on_health`, like every other model); the pool itself
/// is restarted, with its workers, by its step supervisor (one_for_all).
/// Timing: a step's queue wait runs from its arrival to its first page's start, its compute from there to
/// its last page's end.

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/batching_policy.hpp"
#include "actors/interfaces.hpp"
#include "actors/lifecycle.hpp"

namespace infermesh {

/// Makes a fresh engine (on the worker's own thread).
using ocr_engine_factory = std::function<outcome<std::unique_ptr<ocr_engine>>()>;

struct ocr_pool_setup {
  std::string model_name;
  std::string model_version;
  std::size_t queue_capacity = batching_config{}.queue_capacity;  ///< pages waiting for a worker
  ocr_engine_factory make_engine;  ///< for replacement workers; empty: no restarts
  supervision_config supervision;  ///< the model's `supervision` keys, for each engine worker
  std::function<void(bool healthy)> on_health;
  std::function<void(const lifecycle&)> on_worker_ready;  ///< a worker serves (first, or a replacement)
  /// The fault door's hook for the worker in a slot (empty: none).
  std::function<std::function<void(const caf::actor&)>(std::size_t slot)> worker_hook;
};

/// Each engine moves into its own worker (an empty engine: the worker creates one with `make_engine` on its own
/// thread); the pool owns the workers, which stop when it stops.
step_actor spawn_ocr_pool(caf::actor_system& sys, ocr_pool_setup setup,
                          std::vector<std::shared_ptr<ocr_engine>> engines);

}  // namespace infermesh
