#pragma once
/// The health reports of one generation of a model's group (runtime/batched_model_part.cpp): its supervisors
/// report under their own names until the group is released; then the release reports each name healthy once,
/// and every later report is dropped. The check and the report happen under one mutex shared with `release`,
/// so a report that checked before the release cannot land after it (a stale "unhealthy" kept for ever).
/// Thread-safe: supervisors report on CAF threads, the slot releases on another.

#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace infermesh {

class generation_health {
 public:
  /// `report(reporter, healthy)`: passes a report on (the node's model_health); called under this mutex.
  explicit generation_health(std::function<void(const std::string& reporter, bool healthy)> report)
      : report_(std::move(report)) {}

  /// `reporter` found the group healthy or not; dropped once released.
  void report(const std::string& reporter, bool healthy) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!released_) report_(reporter, healthy);
  }

  /// The group is released: each of `reporters` is reported healthy (forgotten), later reports are dropped.
  void release(const std::vector<std::string>& reporters) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (released_) return;
    released_ = true;
    for (const auto& r : reporters) report_(r, true);
  }

 private:
  std::mutex mutex_;
  bool released_ = false;
  std::function<void(const std::string&, bool)> report_;
};

}  // namespace infermesh
