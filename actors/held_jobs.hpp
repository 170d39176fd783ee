#pragma once
/// The jobs a supervisor passed on to its child and not answered yet (batcher_supervisor, step_supervisor):
/// each is kept with its response promise until the child answers it, so when the child dies they go to its
/// replacement instead of being lost. `incarnation` says which child holds a job (0: none yet).

#include <caf/all.hpp>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace infermesh {

template <class Job, class Result>
class held_jobs {
 public:
  struct entry {
    Job job;
    caf::typed_response_promise<Result> promise;
    int attempts = 0;               ///< child deaths it lived through
    std::uint64_t incarnation = 0;  ///< of the child it was sent to
  };

  std::uint64_t add(Job job, caf::typed_response_promise<Result> promise) {
    const auto ticket = next_++;
    jobs_.emplace(ticket, entry{std::move(job), std::move(promise), 0, 0});
    return ticket;
  }
  entry& at(std::uint64_t ticket) { return jobs_.at(ticket); }

  /// The child `incarnation` answered `ticket`: delivers it, unless the job went to another child meanwhile.
  void answer(std::uint64_t ticket, std::uint64_t incarnation, Result result) {
    auto found = jobs_.find(ticket);
    if (found == jobs_.end() || found->second.incarnation != incarnation) return;
    found->second.promise.deliver(std::move(result));
    jobs_.erase(found);
  }

  /// The child died: a job it held that has now lived through `max_attempts` deaths is answered
  /// `failure(attempts)`; the rest (and the jobs no child held yet) wait for the next child.
  template <class Failure>
  void child_died(int max_attempts, Failure failure) {
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      if (it->second.incarnation == 0) {  // never sent to the child that died: not its death
        ++it;
      } else if (++it->second.attempts >= max_attempts) {
        it->second.promise.deliver(failure(it->second.attempts));
        it = jobs_.erase(it);
      } else {
        it->second.incarnation = 0;
        ++it;
      }
    }
  }

  /// Answers every job with `result` (the child is unhealthy).
  void fail_all(const Result& result) {
    for (auto& [ticket, e] : jobs_) e.promise.deliver(result);
    jobs_.clear();
  }

  /// The jobs no child holds now.
  std::vector<std::uint64_t> waiting() const {
    std::vector<std::uint64_t> out;
    for (const auto& [ticket, e] : jobs_)
      if (e.incarnation == 0) out.push_back(ticket);
    return out;
  }

 private:
  std::unordered_map<std::uint64_t, entry> jobs_;
  std::uint64_t next_ = 0;
};

}  // namespace infermesh
