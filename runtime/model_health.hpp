#pragma once
/// The node's view of each model's health, folded from every supervisor's report for the health gate.

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "runtime/health_gate.hpp"

namespace infermesh {

/// A model is healthy while every supervisor of it says so (its model or engine workers, its batcher or
/// pool, its step actor): folds their reports into one per model for the gate. Thread-safe.
class model_health {
 public:
  explicit model_health(health_gate& gate) : gate_(gate) {}
  void report(const std::string& model, const std::string& reporter, bool healthy) {
    // Under the lock: two reporters' changes reach the gate in the order they were made (it only queues).
    std::lock_guard<std::mutex> lock(mutex_);
    const bool before = sick_[model].empty();
    if (healthy) sick_[model].erase(reporter);
    else sick_[model].insert(reporter);
    if (before != sick_[model].empty()) gate_.report(model, sick_[model].empty());
  }
  /// Whether no supervisor of `model` says it is unhealthy now.
  bool healthy(const std::string& model) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = sick_.find(model);
    return found == sick_.end() || found->second.empty();
  }

 private:
  health_gate& gate_;
  mutable std::mutex mutex_;
  std::map<std::string, std::set<std::string>> sick_;  // model -> reporters that say it is not healthy
};

}  // namespace infermesh
