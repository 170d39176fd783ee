#pragma once
/// Preprocessing workers: decode and prepare images, and split PDFs and TIFFs into pages, in parallel, each
/// worker on its own thread (detached), so the model's thread only runs forward passes and the CAF scheduler
/// is never blocked by decoding. Interface: preprocess_actor (interfaces.hpp).
///
/// The pool is a dispatcher in front of its workers, not a round-robin: a job waits in one bounded FIFO
/// queue until a worker is idle, so a worker stuck on one hostile file holds up nobody queued behind it
/// (the others take the queue). A job whose deadline passes while it waits is answered `deadline_exceeded`
/// without being worked on; one still running at its deadline is answered `deadline_exceeded` then (its
/// worker stays busy until it is done: work in a C library cannot be interrupted from outside, which is why
/// every decoder's work is bounded before it starts — document_pages.hpp, image_probe.hpp — and PDF/TIFF
/// pages are rendered in a child process killed at the deadline, page_render_sandbox.hpp). A full queue
/// answers `overloaded` at once.
///
/// Supervision: each worker goes through the one lifecycle (supervised_child.hpp): a worker that dies (an
/// exception other than std::bad_alloc, which it answers `too_large`) is replaced after its back-off, and the
/// job it held goes back to the queue, up to `max_attempts` deaths, then is answered `internal`. The pool is
/// healthy while every worker is (`on_health`); with no worker serving nor about to, jobs are answered
/// `unavailable`, never left waiting.

#include <functional>

#include "actors/interfaces.hpp"
#include "actors/restart_intensity.hpp"
#include "models/page_render_sandbox.hpp"

namespace infermesh {

struct preprocessor_setup {
  std::size_t workers = 2;
  std::size_t queue_capacity = 1024;  ///< jobs waiting for a worker; one more is `overloaded`
  supervision_config supervision;     ///< each worker's restart intensity and back-off
  /// PDF and TIFF pages are rendered in a child process under these limits (page_render_sandbox.hpp);
  /// `child` empty: in this process (tests of the pool alone).
  render_sandbox sandbox;
  /// The pool's health changed (every worker healthy, or not); on the pool's thread. Null: nobody.
  std::function<void(bool healthy)> on_health;
  /// A worker was spawned (tests crash it through this handle). Null: nobody.
  std::function<void(std::size_t slot, const caf::actor&)> on_spawned;
};

/// The pool and its workers; the workers stop when the pool stops.
preprocess_actor spawn_preprocessor_pool(caf::actor_system& sys, preprocessor_setup setup);

/// A pool of `workers` with the default queue and supervision, reporting health to nobody (tests).
preprocess_actor spawn_preprocessor_pool(caf::actor_system& sys, std::size_t workers);

}  // namespace infermesh
