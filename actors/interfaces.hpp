#pragma once
/// Every actor's interface as its clients see it, on one screen. Handles are typed: a message an actor does
/// not take does not compile. Self-sent timers and supervisors' internal messages are not here: each actor is
/// spawned with a larger internal type (`::extend<...>`) and hands out only these.
///
/// Every supervised child answers `(ping_atom) -> bool` once it is loaded and warm: its supervisor's
/// readiness probe (supervised_child.hpp). Supervisors speak their child's interface, so clients never see a
/// child come and go.

#include "actors/protocol.hpp"

namespace infermesh {

/// A model actor: owns one loaded model (and its device) and runs one forward pass per batch on its own
/// (detached) thread. The model supervisor in front of it has the same interface, plus
/// `(status_atom) -> child_status`; its failures carry `model_died` when the actor died under the batch.
using model_actor = caf::typed_actor<caf::replies_to<run_atom, tensor_batch>::with<batch_run_result>,
                                     caf::replies_to<ping_atom>::with<bool>>;
using supervised_model_actor = model_actor::extend<caf::replies_to<status_atom>::with<child_status>>;

/// The preprocessing pool (preprocessor.hpp: a dispatcher that supervises its workers) and each of its
/// workers, each on its own thread; `deadline`: the request's, answered `deadline_exceeded` when it passes:
/// (prep_atom, image, spec, upright_rotation, deadline) -> preprocessed: the model input tensor of one image;
/// (split_atom, document, max_pages, limits, deadline) -> split_result: the pages of a PDF or TIFF;
/// (ping_atom) -> bool: ready (every worker serves).
using preprocess_actor =
    caf::typed_actor<caf::replies_to<prep_atom, shared_bytes, input_spec, int, steady_time>::with<preprocessed>,
                     caf::replies_to<split_atom, shared_bytes, int, document_limits, steady_time>::with<split_result>,
                     caf::replies_to<ping_atom>::with<bool>>;

/// An OCR engine worker: owns one OCR engine (not thread-safe) and reads one page at a time on its own thread.
/// (ocr_atom, page, known_rotation or -1, auto_rotate, deadline) -> ocr_result;
/// (orient_atom, page, deadline) -> orient_result. The engine stops at the request's `deadline`.
using ocr_actor = caf::typed_actor<caf::replies_to<ocr_atom, shared_bytes, int, bool, steady_time>::with<ocr_result>,
                                   caf::replies_to<orient_atom, shared_bytes, steady_time>::with<orient_result>,
                                   caf::replies_to<ping_atom>::with<bool>>;

/// A batcher (and the batcher supervisor in front of it): admits one model's requests, forms dynamic batches,
/// answers each request exactly once; `stats_atom`: its counters and its model's lifecycle.
using batcher_actor = caf::typed_actor<caf::replies_to<infer_atom, infer_job>::with<item_result>,
                                       caf::replies_to<stats_atom>::with<batcher_stats>,
                                       caf::replies_to<ping_atom>::with<bool>>;

/// Serves one step of a pipeline: a batched model's step actor, an OCR pool, the step supervisor in front
/// of either, or the remote step actor (which asks another node over NATS).
using step_actor = caf::typed_actor<caf::replies_to<step_atom, step_request>::with<step_reply>,
                                    caf::replies_to<ping_atom>::with<bool>>;

/// The remote step actor: a step_actor that runs steps on other nodes over NATS; the node's inbox
/// subscription hands it their replies: (reply_atom, ticket, payload, no_responders).
using remote_step_actor = step_actor::extend<caf::reacts_to<reply_atom, std::uint64_t, shared_bytes, bool>>;

/// The router (and the router supervisor, the node's stable front door). See router.hpp.
/// (incoming_atom, op, payload, reply_subject, received, ticket): a core request, answered on `reply_subject`
/// (`ticket`: its place in the ingress backlog, given back once it is decoded);
/// (durable_atom, op, payload, delivered, ack, received): a work-queue request, answered on its `reply_to`;
/// (drain_atom): stop accepting; (stats_atom) -> router_stats.
using router_actor =
    caf::typed_actor<caf::reacts_to<incoming_atom, std::string, shared_bytes, std::string, steady_time, backlog_ticket>,
                     caf::reacts_to<durable_atom, std::string, shared_bytes, std::uint64_t, acknowledger, steady_time>,
                     caf::reacts_to<drain_atom>, caf::replies_to<stats_atom>::with<router_stats>,
                     caf::replies_to<ping_atom>::with<bool>>;

}  // namespace infermesh
