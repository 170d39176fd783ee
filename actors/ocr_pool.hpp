#pragma once
/// OCR workers: one detached actor per Tesseract engine (TessBaseAPI is not thread-safe), behind one
/// round-robin handle that answers (ocr_atom, shared_bytes image, bool auto_rotate) -> ocr_result.
/// Decoding, orientation and reading all happen on the worker's thread.

#include <memory>
#include <vector>

#include "actors/protocol.hpp"

namespace infermesh {

/// Each engine moves into its own worker; the pool owns the workers.
caf::actor spawn_ocr_pool(caf::actor_system& sys, std::vector<std::shared_ptr<tesseract_ocr>> engines);

}  // namespace infermesh
