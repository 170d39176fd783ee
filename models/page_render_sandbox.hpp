#pragma once
/// Splits a PDF or TIFF into pages in a child process (infermesh-render, page_render_child.cpp) instead of
/// in the node: poppler has no memory or cancel API, and what it allocates and computes comes from numbers
/// inside the file (an xref naming object 33,000,000, a JBIG2 page declared huge, nested Form XObjects whose
/// cost grows tenfold per level). The kernel bounds the child (RLIMIT_AS, RLIMIT_CPU); the node kills it by
/// its PID when the request's deadline passes. The document goes to the child and its pages come back over
/// one socket pair (no tempfiles); the child holds no other descriptor and dies with the node.
///
/// Answers, besides split_pages' own: `too_large` when the child ran out of its memory limit,
/// `deadline_exceeded` at the deadline (or at its CPU limit), `unsupported_media` when it crashed on the file.
/// Thread-safe (each call spawns its own child); blocks the calling thread until the answer or the deadline:
/// call it on a preprocessing worker's own thread, never on a CAF scheduler thread.

#include <chrono>
#include <cstdint>
#include <string>

#include "models/document_pages.hpp"

namespace infermesh {

struct render_sandbox {
  std::string child;  ///< the infermesh-render executable
  /// The child's address space; 0: derived from the limits (render_memory_bytes).
  std::uint64_t memory_bytes = 0;
  int cpu_seconds = 60;  ///< a backstop for a request without a deadline
};

/// The address space a child gets for `limits`: 256 MiB for the libraries and poppler's own structures, the
/// request's pixel budget twice (each page is rendered, then copied once into its page image) and the largest
/// single libtiff allocation.
std::uint64_t render_memory_bytes(const document_limits& limits);

/// `infermesh-render` in the folder of the running executable (the node's binary), or "" when it is not there.
std::string render_child_next_to_this_executable();

/// split_pages, run in a child process under `sandbox`'s limits; stopped at `deadline`.
outcome<document_pages> split_pages_sandboxed(const render_sandbox& sandbox, const shared_bytes& input, int max_pages,
                                              const document_limits& limits,
                                              std::chrono::steady_clock::time_point deadline);

}  // namespace infermesh
