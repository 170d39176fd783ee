#pragma once
/// The OCR model: one detached worker per Tesseract engine (TessBaseAPI is not thread-safe), behind one step
/// actor that serves the `ocr` step (and `orient`, by Tesseract OSD, when configured). A request's pages are
/// read in parallel; each page waits in one bounded queue (priority first, then arrival; past its deadline it
/// is dropped) until a worker is idle, so the least busy worker always takes the next page.
/// (step_atom, step_request) -> step_reply; a full queue answers `overloaded` at once.
/// Supervision: the pool monitors its workers; a worker that dies (a crash in Tesseract, an injected crash:
/// (fault_atom, "crash", n)) is replaced after `restart_backoff` with a fresh engine, and the page it was
/// reading goes back to the queue (at most `max_attempts` times).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actors/protocol.hpp"

namespace infermesh {

struct ocr_pool_setup {
  std::string model_name;
  std::string model_version;
  std::size_t queue_capacity = 64;  ///< pages waiting for a worker before `overloaded`
  /// Creates a fresh engine for a replacement worker (on the worker's own thread). Empty: no restarts.
  std::function<outcome<std::unique_ptr<tesseract_ocr>>()> make_engine;
  std::chrono::milliseconds restart_backoff{100};
  int max_attempts = 3;             ///< worker deaths one page may live through before it fails `internal`
};

/// Each engine moves into its own worker (an empty engine: the worker creates one with `make_engine` on its own
/// thread); the pool owns the workers, which stop when it stops.
caf::actor spawn_ocr_pool(caf::actor_system& sys, ocr_pool_setup setup,
                          std::vector<std::shared_ptr<tesseract_ocr>> engines);

}  // namespace infermesh
