#pragma once
/// The dynamic batching policy of one model, as plain code with no actors and no clock of its own: the caller
/// passes `now` to every decision, so tests drive it with made-up times and no sleeps.
///
/// Rules (Triton's dynamic batcher, plus "nothing else is coming"):
/// - capacity: reserved (being preprocessed) + queued requests never exceed `queue_capacity`;
///   `try_reserve` fails at once when full, and the caller answers `overloaded`;
/// - order: higher priority first, FIFO (arrival order) within a priority;
/// - a request whose deadline has passed is dropped before compute (returned as `expired`);
/// - a request marked `alone` runs in a batch of one (after a failed batch, to isolate a poison input);
/// - while the model is idle a batch fires when it is full (`max_batch_size`), when the oldest queued
///   request has waited `max_queue_delay`, or at once when nothing else is coming (no reservations);
/// - while the model is busy, requests accumulate: the next batch fires as soon as it is idle again.
/// Not thread-safe: one owner (the batcher actor).

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <vector>

namespace infermesh {

/// Batching settings of one model (config: `models[i].batching`).
struct batching_config {
  std::size_t max_batch_size = 8;
  std::chrono::microseconds max_queue_delay{2000};
  std::size_t queue_capacity = 256;
};

class batching_policy {
 public:
  using clock = std::chrono::steady_clock;
  using time_point = clock::time_point;

  /// A queued request as the policy sees it; `ticket` names it for the caller.
  struct entry {
    std::uint64_t ticket = 0;
    std::int64_t priority = 0;
    time_point enqueued{};
    time_point deadline = time_point::max();
    bool alone = false;  ///< run in a batch of one (a request of a batch that failed: isolate a poison input)
  };

  /// What to do now: run `batch` (tickets, in serving order), answer `expired`, and poll again at `wake_at`.
  struct decision {
    std::vector<std::uint64_t> batch;
    std::vector<std::uint64_t> expired;
    std::optional<time_point> wake_at;
  };

  explicit batching_policy(batching_config config) : config_(config) {}

  /// Holds a slot for a request that is being preprocessed; false when the queue is full.
  bool try_reserve();
  /// Gives back a slot whose request failed preprocessing.
  void cancel_reservation();
  /// A reserved request is ready to run: it joins the queue (and uses up its reservation).
  void push(const entry& e);
  /// A request that was already admitted goes back into the queue (its batch failed or its model died), without
  /// a reservation: the queue may exceed its capacity by at most the batch that came back.
  void requeue(const entry& e);
  /// Decides, at `now`, what to run. Call after every push, cancellation, batch completion and timer.
  decision poll(time_point now, bool model_idle);

  std::size_t queued() const { return by_arrival_.size(); }
  std::size_t reserved() const { return reserved_; }
  const batching_config& config() const { return config_; }

 private:
  void erase(std::uint64_t seq);

  batching_config config_;
  std::size_t reserved_ = 0;
  std::uint64_t next_seq_ = 0;
  std::map<std::uint64_t, entry> by_arrival_;                             // seq -> entry; begin() is the oldest
  std::set<std::tuple<std::int64_t, std::uint64_t>> by_priority_;         // (-priority, seq)
  std::set<std::tuple<time_point, std::uint64_t>> by_deadline_;           // (deadline, seq)
};

}  // namespace infermesh
