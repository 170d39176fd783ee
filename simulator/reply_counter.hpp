#pragma once
/// The independent count of a simulation: a connection of its own subscribed to `_INBOX.>` that counts every
/// reply (a map with `ok`: requests pulled from JetStream pass through inboxes too) carrying one of the run's
/// request ids, whoever it was sent to. The report checks the workload's own
/// counts against it (a reply the client missed, a request it calls lost that was answered after all).
/// Thread-safety: the counts are read after `stop`; the subscription runs on a nats.c delivery thread.

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "runtime/nats_transport.hpp"

namespace infermesh::sim {

class reply_counter {
 public:
  /// Connects with `options` and subscribes; counts only ids starting with `prefix`.
  static outcome<std::unique_ptr<reply_counter>> start(const nats_options& options, std::string prefix);
  ~reply_counter() { stop(); }
  /// Unsubscribes and closes its connection; the counts stay.
  void stop();
  /// Replies seen per request id so far.
  std::map<std::string, int> counts();

 private:
  reply_counter() = default;
  std::string prefix_;
  std::mutex mutex_;
  std::map<std::string, int> counts_;
  std::unique_ptr<nats_transport> transport_;  ///< last: destroyed (its callbacks ended) before what they touch
};

}  // namespace infermesh::sim
