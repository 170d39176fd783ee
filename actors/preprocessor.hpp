#pragma once
/// Preprocessing workers: decode and prepare images in parallel, each on its own thread (detached), so the
/// model's thread only runs forward passes and the CAF scheduler is never blocked by image decoding.

#include "actors/interfaces.hpp"

namespace infermesh {

/// A round-robin pool of `workers` detached preprocessing actors behind one handle
/// (see preprocess_actor).
preprocess_actor spawn_preprocessor_pool(caf::actor_system& sys, std::size_t workers);

}  // namespace infermesh
