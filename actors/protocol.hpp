#pragma once
/// The messages actors exchange inside a node (their interfaces, which list who takes which: interfaces.hpp).
/// Local only (never serialized): whitelisted with CAF_ALLOW_UNSAFE_MESSAGE_TYPE. Errors are results, not
/// exceptions: a failed request is an `item_result` with `failure` set.

#include <caf/all.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/lifecycle.hpp"
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
  double queue_ms = 0;         ///< reached the batcher -> its batch started (preprocessing included)
  double compute_ms = 0;       ///< forward pass of its batch
  int batch_size = 0;
  steady_time batch_started{};   ///< when its batch started and finished (a step's own timing: first
  steady_time batch_finished{};  ///< start - step start is its queue wait, last finish - first start compute)

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

/// A model actor's answer to one batch. `model_died`: the model actor died running it (its supervisor says
/// so; the batcher then retries each request alone, up to `max_attempts` deaths).
struct batch_run_result {
  std::optional<error> failure;
  batch_scores scores;
  double compute_ms = 0;
  bool model_died = false;
};

/// A supervised child's lifecycle, as its supervisor reports it (stats logs; status).
struct child_status {
  life_state state = life_state::loading;
  std::string reason;
  bool healthy = true;
  std::uint64_t restarts = 0;   ///< replacements that reached serving
  double max_recovery_ms = 0;   ///< longest time from a death to the replacement serving
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
  std::uint64_t pixels = 0;  ///< of `pages` together (the router's node-wide bound counts them)
};

/// A core request's place in the node's ingress backlog (runtime/ingress_backlog.hpp): taken by the NATS
/// callback, held while the request waits undecoded in the router's (or its supervisor's) mailbox, and given
/// back when the router has decoded it — or when the message is dropped, whoever drops it. Copies share the
/// place. Empty: not counted (tests, a caller without a backlog).
struct backlog_ticket {
  std::shared_ptr<void> place;
  void release() { place.reset(); }
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
  std::uint64_t queued = 0;      ///< waiting now: queued or being preprocessed (the queue depth)
  std::uint64_t in_batch = 0;    ///< in the batch running now (queued + in_batch: admitted, not answered)
  child_status model;            ///< the model actor's lifecycle (its supervisor's report)
};

/// One op's answers, counted where the router publishes them (ADR-32's per-endpoint stats).
struct op_counters {
  std::uint64_t requests = 0;        ///< answered (ok or error)
  std::uint64_t errors = 0;          ///< answered with an error
  std::string last_error;            ///< "<code>: <message>" of the latest error, "" when none
  std::uint64_t processing_ns = 0;   ///< summed time from taking each request off NATS to its answer
};

/// Counters of the router, since it (this incarnation) started.
struct router_stats {
  std::uint64_t received = 0;
  std::uint64_t replied_ok = 0;
  std::uint64_t replied_error = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t no_reply_subject = 0;  ///< published without a reply subject: dropped unanswered
  std::uint64_t repeats = 0;           ///< a known id again (a client's retry): answered from the reply cache
  std::uint64_t repeats_refused = 0;   ///< a repeat of a request in flight past `max_waiters_per_id`: overloaded
  std::uint64_t handed_back = 0;       ///< durable requests returned to the work queue (overloaded, unavailable)
  std::map<std::string, op_counters> ops;  ///< by op: what was answered, including refusals
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
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::backlog_ticket)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::document_limits)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::batcher_stats)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(infermesh::child_status)
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
using split_atom = caf::atom_constant<caf::atom("split")>;
using expire_atom = caf::atom_constant<caf::atom("expire")>;
using reply_atom = caf::atom_constant<caf::atom("reply")>;
using durable_atom = caf::atom_constant<caf::atom("durable")>;
using supervise_atom = caf::atom_constant<caf::atom("supervise")>;  ///< a supervisor's own timers (supervised_child)
using status_atom = caf::atom_constant<caf::atom("status")>;

}  // namespace infermesh
