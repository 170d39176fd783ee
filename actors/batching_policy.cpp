#include "actors/batching_policy.hpp"

#include <algorithm>

namespace infermesh {

bool batching_policy::try_reserve() {
  if (reserved_ + by_arrival_.size() >= config_.queue_capacity) return false;
  ++reserved_;
  return true;
}

void batching_policy::cancel_reservation() {
  if (reserved_ > 0) --reserved_;
}

void batching_policy::push(const entry& e) {
  cancel_reservation();
  requeue(e);
}

void batching_policy::requeue(const entry& e) {
  const auto seq = next_seq_++;
  by_arrival_.emplace(seq, e);
  by_priority_.emplace(-e.priority, seq);
  by_deadline_.emplace(e.deadline, seq);
}

void batching_policy::erase(std::uint64_t seq) {
  auto it = by_arrival_.find(seq);
  by_priority_.erase({-it->second.priority, seq});
  by_deadline_.erase({it->second.deadline, seq});
  by_arrival_.erase(it);
}

batching_policy::decision batching_policy::poll(time_point now, bool model_idle) {
  decision d;
  while (!by_deadline_.empty() && std::get<0>(*by_deadline_.begin()) <= now) {
    const auto seq = std::get<1>(*by_deadline_.begin());
    d.expired.push_back(by_arrival_.at(seq).ticket);
    erase(seq);
  }
  if (by_arrival_.empty()) return d;

  const time_point oldest_due = by_arrival_.begin()->second.enqueued + config_.max_queue_delay;
  const bool fire = by_arrival_.size() >= config_.max_batch_size || now >= oldest_due || reserved_ == 0;
  if (model_idle && fire) {
    const auto n = std::min(config_.max_batch_size, by_arrival_.size());
    d.batch.reserve(n);
    // In serving order; a request that must run alone is a batch of its own (it ends the batch, or, when it is
    // first, is the whole batch).
    while (d.batch.size() < n) {
      const auto seq = std::get<1>(*by_priority_.begin());
      const entry& e = by_arrival_.at(seq);
      if (e.alone && !d.batch.empty()) break;
      d.batch.push_back(e.ticket);
      const bool alone = e.alone;
      erase(seq);
      if (alone) break;
    }
  }
  if (!by_arrival_.empty()) {
    // Wake for the first deadline, and (when idle and waiting to fill a batch) for the oldest's delay.
    time_point wake = std::get<0>(*by_deadline_.begin());
    if (model_idle && d.batch.empty())
      wake = std::min(wake, by_arrival_.begin()->second.enqueued + config_.max_queue_delay);
    if (wake != time_point::max()) d.wake_at = wake;
  }
  return d;
}

}  // namespace infermesh
