#pragma once
/// The independent count of a simulation: connections of its own, one pinned to each NATS server, each
/// subscribed to `_INBOX.>`, that count every reply (a map with `ok`: requests pulled from JetStream pass through
/// inboxes too) carrying one of the run's request ids, whoever it was sent to. The report checks the workload's
/// own counts against it (a reply the client missed, a request it calls lost that was answered after all).
/// One connection per server, so that a server cut off by a fault (a partition, a kill) does not blind it: a
/// reply's count is the most any one connection saw of it.
/// Thread-safety: the subscriptions run on nats.c delivery threads; `counts` from any thread.

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/nats_transport.hpp"

namespace infermesh::sim {

class reply_counter {
 public:
  /// Connects to each of `options.servers` on its own and subscribes; counts only ids starting with `prefix`.
  static outcome<std::unique_ptr<reply_counter>> start(const nats_options& options, std::string prefix);
  ~reply_counter() { stop(); }
  /// Unsubscribes and closes its connections; the counts stay.
  void stop();
  /// Replies seen per request id so far (the most any one connection saw).
  std::map<std::string, int> counts();

 private:
  reply_counter() = default;
  std::string prefix_;
  std::mutex mutex_;
  std::vector<std::map<std::string, int>> counts_;             ///< per connection
  std::vector<std::unique_ptr<nats_transport>> transports_;    ///< last: closed before what their callbacks touch
};

}  // namespace infermesh::sim
