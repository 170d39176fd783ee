#pragma once
/// The one fan-in of a step's parts (llama.cpp's `wait_for_all`): a step's pages go out as separate jobs —
/// to a model's batcher (model_step) or to OCR engines (ocr_pool) — and come back in any order; the step is
/// answered exactly once: with the first failure, or with the reply once every part is in. It also keeps the
/// step's own timing: its queue wait runs from its arrival to its first part's start, its compute from there
/// to its last part's end (so the steps of a pipeline never add up to more than the request's total).
/// Shared (shared_ptr) by the response handlers of one actor: only that actor's thread touches it.

#include <caf/all.hpp>

#include <algorithm>
#include <optional>

#include "actors/protocol.hpp"

namespace infermesh {

class step_fan_in {
 public:
  /// `parts` parts (> 0) of a step that arrived at `arrived`; the answer goes to `promise`.
  step_fan_in(caf::typed_response_promise<step_reply> promise, std::size_t parts, steady_time arrived)
      : promise_(std::move(promise)), left_(parts), arrived_(arrived) {}

  /// The reply being put together (each part adds its findings).
  step_reply& reply() { return reply_; }
  /// Whether the step was answered (a part failed, or all are in): later parts need no work.
  bool answered() const { return answered_; }

  /// A part started (its batch, or its page read) at `at`.
  void started(steady_time at) { first_start_ = std::min(first_start_.value_or(at), at); }
  /// A part that ended at `at` is in; the last one answers the step.
  void done(steady_time at) {
    last_end_ = std::max(last_end_, at);
    if (--left_ > 0 || answered_) return;
    answered_ = true;
    const auto start = first_start_.value_or(arrived_);
    reply_.queue_ms = ms(start - arrived_);
    reply_.compute_ms = ms(std::max(last_end_, start) - start);
    promise_.deliver(std::move(reply_));
  }
  /// A part failed: the step is answered with `e` (once; later results are dropped).
  void fail(error e) {
    if (answered_) return;
    answered_ = true;
    promise_.deliver(step_reply::failed(std::move(e)));
  }

 private:
  static double ms(steady_time::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

  caf::typed_response_promise<step_reply> promise_;
  step_reply reply_;
  std::size_t left_;
  bool answered_ = false;
  steady_time arrived_;
  std::optional<steady_time> first_start_;
  steady_time last_end_{};
};

}  // namespace infermesh
