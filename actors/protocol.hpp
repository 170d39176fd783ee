#pragma once
/// The messages actors exchange inside a node, and the typed interfaces of the model and batcher actors.
/// Local only (never serialized): whitelisted with CAF_ALLOW_UNSAFE_MESSAGE_TYPE. Errors are results, not
/// exceptions: a failed request is an `item_result` with `failure` set.

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "actors/pipeline.hpp"
#include "messages/error_code.hpp"
#include "messages/model_ref.hpp"
#include "messages/shared_bytes.hpp"
#include "models/document_pages.hpp"
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

/// A document type and every label's probability, from a local classifier or a remote node's reply.
struct classification {
  std::string doc_type;   ///< empty when the model has no labels
  double confidence = 0;
  std::vector<std::pair<std::string, double>> scores;
};

/// One step of a pipeline, as the router hands it to whatever serves the step: a local model's step actor or
/// the remote step actor (which asks another node over NATS). Everything a step may need travels here.
struct step_request {
  step_kind step = step_kind::classify;
  std::string id;                                   ///< the request's id (a remote node sees the same id)
  shared_bytes input;                               ///< the request's bytes as sent (a remote node gets these)
  std::vector<shared_bytes> pages;                  ///< the input split into page images (an image: itself)
  std::vector<std::optional<page_rotation>> rotations;  ///< per page, when known
  bool auto_rotate = true;
  int max_pages = 10;
  std::int64_t priority = 0;
  int hops = 0;                                     ///< times this request was already forwarded
  steady_time accepted{};
  steady_time deadline = steady_time::max();
};

/// What a step found out. A remote reply may carry more than was asked (a remote `classify` asked for the
/// orientation also classifies): the router keeps all of it and skips steps whose results it already has.
struct step_reply {
  std::optional<error> failure;
  std::vector<std::optional<page_rotation>> rotations;  ///< per page (orient; a remote classify: page 1)
  std::optional<classification> classified;
  std::optional<std::vector<ocr_page>> text;            ///< ocr: one per page read
  int total_pages = 0;                                  ///< ocr: pages in the document
  double queue_ms = 0, compute_ms = 0;
  int batch_size = 0;
  std::vector<model_ref> models;                        ///< every model used, in the order they ran
  std::map<step_kind, model_ref> produced_by;           ///< which model found each step's findings

  /// Records that `m` ran and found the findings of `step`.
  void found_by(step_kind step, const model_ref& m) {
    models.push_back(m);
    produced_by[step] = m;
  }

  /// A step that failed with `e`.
  static step_reply failed(error e) {
    step_reply r;
    r.failure = std::move(e);
    return r;
  }
};

/// A preprocessing worker's answer to a split: the pages of a PDF or TIFF.
struct split_result {
  std::optional<error> failure;
  std::vector<shared_bytes> pages;
  int total_pages = 0;
};

/// Acknowledges a durable request to its work queue (after its reply is published), or hands it back (`nak`:
/// redelivered, maybe to another node) when this node cannot take it now. Empty for core requests.
struct acknowledger {
  std::function<void()> ack;
  std::function<void()> nak;
  void operator()() const {
    if (ack) ack();
  }
  bool durable() const { return static_cast<bool>(nak); }
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
  std::uint64_t requeued = 0;    ///< requests put back after their batch failed or their model died
  std::uint64_t restarts = 0;    ///< model actor restarts
  double max_recovery_ms = 0;    ///< longest time from a model's death to its replacement being ready
  bool healthy = true;           ///< false past the restart intensity, until a later restart succeeds
};

/// Counters of the router, since it started.
struct router_stats {
  std::uint64_t received = 0;
  std::uint64_t replied_ok = 0;
  std::uint64_t replied_error = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t no_reply_subject = 0;  ///< published without a reply subject: dropped unanswered
  std::uint64_t repeats = 0;           ///< a known id again (a client's retry): answered from the reply cache
  std::uint64_t handed_back = 0;       ///< durable requests returned to the work queue (overloaded, unavailable)
};

}  // namespace infermesh

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::infer_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::item_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::preprocessed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::batch_run_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::ocr_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::orient_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::tensor_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::step_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::step_reply)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::split_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::acknowledger)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::document_limits)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::batcher_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::router_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::shared_bytes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::input_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::steady_time)

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
using step_atom = caf::atom_constant<caf::atom("step")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using fault_atom = caf::atom_constant<caf::atom("fault")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using split_atom = caf::atom_constant<caf::atom("split")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using reply_atom = caf::atom_constant<caf::atom("reply")>;
using durable_atom = caf::atom_constant<caf::atom("durable")>;
using loading_atom = caf::atom_constant<caf::atom("loading")>;

/// Serves one or more steps, locally or remotely: (step_atom, step_request) -> step_reply. Dynamically typed,
/// so a model's step actor, the OCR pool and the remote step actor stand behind one handle type.
using step_server = caf::actor;

/// A model actor: owns one loaded model (and its device); runs one forward per batch on its own thread.
/// (ping_atom) -> bool: answered once the model is loaded (a restarted actor loads it again first).
/// (fault_atom, action, value): test and simulation faults: "slow" (value ms per batch), "fail" (the next value
/// batches fail), "heal" (clear both).
using model_actor = caf::typed_actor<caf::replies_to<run_atom, tensor_batch>::with<batch_run_result>,
                                     caf::replies_to<ping_atom>::with<bool>,
                                     caf::reacts_to<fault_atom, std::string, std::int64_t>>;

/// A preprocessing worker: encoded image -> model input tensor. Many run in parallel, off the model's thread.
/// (prep_atom, image, spec, upright_rotation) -> preprocessed
/// (split_atom, document, max_pages, limits) -> split_result: the pages of a PDF or TIFF (rendering is heavy,
/// so it runs here rather than on the router).
using preprocess_actor =
    caf::typed_actor<caf::replies_to<prep_atom, shared_bytes, input_spec, int>::with<preprocessed>,
                     caf::replies_to<split_atom, shared_bytes, int, document_limits>::with<split_result>>;

/// An OCR worker: owns one Tesseract engine (not thread-safe) and reads one page at a time on its own thread.
/// (ocr_atom, page, known_rotation or -1, auto_rotate) -> ocr_result; (orient_atom, page) -> orient_result
using ocr_actor = caf::typed_actor<caf::replies_to<ocr_atom, shared_bytes, int, bool>::with<ocr_result>,
                                   caf::replies_to<orient_atom, shared_bytes>::with<orient_result>>;

/// A batcher: admits requests for one model, forms dynamic batches, answers each request once.
/// (fault_atom, action, value): "crash" kills the model actor (its supervisor, this batcher, restarts it);
/// other actions go to the model actor. (restart_atom): internal, the supervisor's back-off timer.
using batcher_actor = caf::typed_actor<caf::replies_to<infer_atom, infer_job>::with<item_result>,
                                       caf::reacts_to<fault_atom, std::string, std::int64_t>,
                                       caf::reacts_to<restart_atom, std::uint64_t>,
                                       caf::reacts_to<wake_atom, std::uint64_t>,
                                       caf::reacts_to<loading_atom, std::uint64_t>,
                                       caf::replies_to<stats_atom>::with<batcher_stats>>;

}  // namespace infermesh
