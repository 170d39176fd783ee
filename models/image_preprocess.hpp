#pragma once
/// Encoded image -> model input: probe the header (refusing bombs), decode, colour order, resize, scale to
/// [0,1], normalise, HWC -> CHW float32. Pure and thread-safe: the batcher's preprocessing workers call it in
/// parallel, never the model's thread.

#include <chrono>
#include <vector>

#include "messages/outcome.hpp"
#include "messages/shared_bytes.hpp"
#include "models/model_config.hpp"

namespace infermesh {

/// Writes `spec.tensor_size()` floats. Errors: `unsupported_media` (not PNG/JPEG, corrupt), `too_large`
/// (more than `spec.max_pixels`).
/// `upright_rotation`: the page's clockwise rotation from upright (0, 90, 180, 270), undone before resizing.
/// `deadline`: checked before decoding and between the stages after it (`deadline_exceeded`).
outcome<std::vector<float>> preprocess_image(
    const shared_bytes& encoded, const input_spec& spec, int upright_rotation = 0,
    std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max());

/// Keeps OpenCV from starting its own thread pool under our parallel workers. Call once at start-up.
void use_single_threaded_image_codecs();

}  // namespace infermesh
