#pragma once
/// Health gating: a node takes an op from NATS only while every local model the op needs is healthy. When a
/// model passes its restart intensity (batcher.hpp), the node drains its subscriptions to the ops that need
/// it and stops pulling their durable requests, so NATS sends those requests to other nodes; when the model is
/// back, it subscribes (and pulls) again.
///
/// Threads: supervisors report from CAF scheduler threads, exactly when a model is failing, so `report` never
/// touches NATS: it queues the report and returns. The gate's own thread (started by `open`) applies the
/// queued reports in order: unsubscribe, pause pulls and flush, or subscribe and resume. Which thread may call
/// what:
///   - `open`, `close`: the owner (node start-up and shutdown), once each, never a CAF thread.
///   - `report`: any thread; returns at once, never blocks on NATS (after `close`: ignored).
///   - `subscriptions`, `subscribed_ops`: any thread; a snapshot of what the gate thread has applied so far.
/// The gate must be closed (or destroyed) before the transport it uses.

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/nats_transport.hpp"

namespace infermesh {

class health_gate {
 public:
  /// Subscribes `op`'s subject; called on the owner's thread by `open`, then only on the gate thread.
  using subscribe_fn = std::function<outcome<int>(const std::string& op)>;

  /// `needs`: op -> names of the local models its pipeline uses (and "router", which every op needs). Nothing
  /// is subscribed until `open`; `transport` must outlive the gate (or its `close`).
  health_gate(nats_transport& transport, std::map<std::string, std::set<std::string>> needs, subscribe_fn subscribe);
  /// Closes the gate (`close`).
  ~health_gate();
  health_gate(const health_gate&) = delete;
  health_gate& operator=(const health_gate&) = delete;

  /// Owner thread, once, at start-up after warm-up: subscribes every op on the calling thread (the first error
  /// stops it), then starts the gate thread, which applies the reports queued so far and any later ones.
  std::optional<error> open();
  /// Any thread: a model (or the router) became unhealthy (false) or healthy again (true). Only queues it.
  void report(const std::string& model, bool healthy);
  /// Owner thread (graceful drain, shutdown): stops the gate thread once the change it is applying (if any) is
  /// done — reports still queued are dropped, as the node is stopping — and returns the ids of the op
  /// subscriptions active then, for `nats_transport::drain_subscriptions`. Idempotent.
  std::vector<int> close();
  /// Any thread: the ids of the op subscriptions active now.
  std::vector<int> subscriptions() const;
  /// Any thread: the ops subscribed now, comma-separated (logs).
  std::string subscribed_ops() const;

 private:
  void run();                          // the gate thread
  void apply(const std::string& model, bool healthy);  // gate thread
  void update(const std::string& op);  // gate thread

  nats_transport& transport_;
  const std::map<std::string, std::set<std::string>> needs_;
  subscribe_fn subscribe_;
  std::set<std::string> unhealthy_;    // gate thread only

  mutable std::mutex mutex_;           // guards what follows; never held across a NATS call
  std::condition_variable wake_;
  std::deque<std::pair<std::string, bool>> queue_;  // reports not applied yet
  bool closed_ = false;
  std::map<std::string, int> active_;  // op -> subscription id; written by open, then the gate thread
  std::thread thread_;
};

}  // namespace infermesh
