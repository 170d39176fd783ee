#pragma once
/// Health gating: a node takes an op from NATS only while every local model the op needs is healthy. When a
/// model passes its restart intensity (batcher.hpp), the node drains its subscriptions to the ops that need
/// it and stops pulling their durable requests, so NATS sends those requests to other nodes; when the model is
/// back, it subscribes (and pulls) again. Thread-safe:
/// batchers report from their own threads.

#include <map>
#include <mutex>
#include <set>
#include <string>

#include "runtime/nats_transport.hpp"

namespace infermesh {

class health_gate {
 public:
  using subscribe_fn = std::function<outcome<int>(const std::string& op)>;

  /// `needs`: op -> names of the local models its pipeline uses (and "router", which every op needs). Nothing
  /// is subscribed until `open`.
  health_gate(nats_transport& transport, std::map<std::string, std::set<std::string>> needs, subscribe_fn subscribe);

  /// Subscribes every op (at start-up, after warm-up); the first error stops it.
  std::optional<error> open();
  /// A model (or the router) became unhealthy (false) or healthy again (true).
  void report(const std::string& model, bool healthy);
  /// The ids of the op subscriptions active now (graceful drain).
  std::vector<int> subscriptions();
  /// The ops subscribed now, comma-separated (logs).
  std::string subscribed_ops();

 private:
  void update(const std::string& op);

  std::mutex mutex_;
  nats_transport& transport_;
  std::map<std::string, std::set<std::string>> needs_;
  subscribe_fn subscribe_;
  std::set<std::string> unhealthy_;
  std::map<std::string, int> active_;  // op -> subscription id
};

}  // namespace infermesh
