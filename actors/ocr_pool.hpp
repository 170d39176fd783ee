#pragma once
/// The OCR model: one detached worker per Tesseract engine (TessBaseAPI is not thread-safe), behind one step
/// actor that serves the `ocr` step (and `orient`, by Tesseract OSD, when configured). A request's pages are
/// read in parallel; each page waits in one bounded queue (priority first, then arrival; past its deadline it
/// is dropped) until a worker is idle, so the least busy worker always takes the next page.
/// (step_atom, step_request) -> step_reply; a full queue answers `overloaded` at once.

#include <memory>
#include <string>
#include <vector>

#include "actors/protocol.hpp"

namespace infermesh {

struct ocr_pool_setup {
  std::string model_name;
  std::string model_version;
  std::size_t queue_capacity = 64;  ///< pages waiting for a worker before `overloaded`
};

/// Each engine moves into its own worker; the pool owns (and is linked to) the workers.
caf::actor spawn_ocr_pool(caf::actor_system& sys, ocr_pool_setup setup,
                          std::vector<std::shared_ptr<tesseract_ocr>> engines);

}  // namespace infermesh
