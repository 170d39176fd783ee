#pragma once
/// The messages actors exchange inside a node, and the typed interfaces of the model and batcher actors.
/// Local only (never serialized): whitelisted with CAF_ALLOW_UNSAFE_MESSAGE_TYPE. Errors are results, not
/// exceptions: a failed request is an `item_result` with `failure` set.

#include <caf/all.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "messages/error_code.hpp"
#include "messages/shared_bytes.hpp"
#include "models/model.hpp"
#include "models/tesseract_ocr.hpp"

namespace infermesh {

using steady_time = std::chrono::steady_clock::time_point;

/// One request for one model, as the router hands it to the model's batcher.
struct infer_job {
  shared_bytes image;                ///< encoded image (a view of the NATS message)
  std::int64_t priority = 0;
  steady_time accepted{};            ///< when the node accepted the request
  steady_time deadline = steady_time::max();
  int upright_rotation = 0;          ///< the page's clockwise rotation, undone by preprocessing
};

/// The answer to one `infer_job`: class scores, or the error that stopped it.
struct item_result {
  std::optional<error> failure;
  std::vector<float> scores;   ///< one probability per label
  double queue_ms = 0;         ///< accepted -> batch start
  double compute_ms = 0;       ///< forward pass of its batch
  int batch_size = 0;

  static item_result failed(error_code code, std::string message) {
    item_result r;
    r.failure = error{code, std::move(message)};
    return r;
  }
};

/// A preprocessing worker's answer: the model input tensor of one image, or why there is none.
struct preprocessed {
  std::optional<error> failure;
  std::vector<float> tensor;
};

/// A model actor's answer to one batch.
struct batch_run_result {
  std::optional<error> failure;
  batch_scores scores;
  double compute_ms = 0;
};

/// An OCR worker's answer: the page read, or why not.
struct ocr_result {
  std::optional<error> failure;
  ocr_page page;
  double compute_ms = 0;
};

/// An OCR worker's answer to an orientation question.
struct orient_result {
  std::optional<error> failure;
  page_rotation rotation;
};

/// Counters of one batcher, since it started.
struct batcher_stats {
  std::uint64_t requests = 0;    ///< admitted
  std::uint64_t batches = 0;
  std::uint64_t batched_items = 0;
  std::uint64_t max_batch = 0;
  std::uint64_t overloaded = 0;  ///< refused: queue full
  std::uint64_t expired = 0;     ///< dropped before compute: deadline passed
  std::uint64_t failed = 0;      ///< preprocessing or forward failures
};

/// Counters of the router, since it started.
struct router_stats {
  std::uint64_t received = 0;
  std::uint64_t replied_ok = 0;
  std::uint64_t replied_error = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t no_reply_subject = 0;  ///< published without a reply subject: dropped unanswered
};

}  // namespace infermesh

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::infer_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::item_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::preprocessed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::batch_run_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::ocr_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::orient_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::tensor_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::batcher_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::router_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::shared_bytes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::input_spec)

namespace infermesh {

using infer_atom = caf::atom_constant<caf::atom("infer")>;
using run_atom = caf::atom_constant<caf::atom("run")>;
using prep_atom = caf::atom_constant<caf::atom("prep")>;
using wake_atom = caf::atom_constant<caf::atom("wake")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using incoming_atom = caf::atom_constant<caf::atom("incoming")>;
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using ocr_atom = caf::atom_constant<caf::atom("ocr")>;
using orient_atom = caf::atom_constant<caf::atom("orient")>;

/// A model actor: owns one loaded model (and its device); runs one forward per batch on its own thread.
using model_actor = caf::typed_actor<caf::replies_to<run_atom, tensor_batch>::with<batch_run_result>>;

/// A preprocessing worker: encoded image -> model input tensor. Many run in parallel, off the model's thread.
/// (prep_atom, image, spec, upright_rotation) -> preprocessed
using preprocess_actor =
    caf::typed_actor<caf::replies_to<prep_atom, shared_bytes, input_spec, int>::with<preprocessed>>;

/// An OCR worker: owns one Tesseract engine (not thread-safe) and reads one page at a time on its own thread.
/// (ocr_atom, image, auto_rotate) -> ocr_result; (orient_atom, image) -> orient_result
using ocr_actor = caf::typed_actor<caf::replies_to<ocr_atom, shared_bytes, bool>::with<ocr_result>,
                                   caf::replies_to<orient_atom, shared_bytes>::with<orient_result>>;

/// A batcher: admits requests for one model, forms dynamic batches, answers each request once.
using batcher_actor = caf::typed_actor<caf::replies_to<infer_atom, infer_job>::with<item_result>,
                                       caf::reacts_to<wake_atom, std::uint64_t>,
                                       caf::replies_to<stats_atom>::with<batcher_stats>>;

}  // namespace infermesh
