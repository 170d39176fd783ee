#pragma once
/// A node: one process that hosts models and serves their ops over NATS. `start` loads and warms every model,
/// spawns the actors (model, batcher, preprocessing pool, router), connects to NATS, and subscribes each op's
/// subject (`wire::op_subject`, queue group `wire::queue_group`) only when everything is ready. `drain_and_stop` is graceful shutdown:
/// stop taking new work, answer everything accepted, then stop. Not thread-safe: one owner (main).

#include <memory>

#include "messages/outcome.hpp"
#include "runtime/config.hpp"

namespace infermesh {

class node {
 public:
  static outcome<std::unique_ptr<node>> start(node_config config);
  ~node();

  /// Unsubscribes (draining what NATS already delivered), waits up to `drain_timeout` for in-flight
  /// requests, logs final stats, stops every actor and closes the connection. Idempotent.
  void drain_and_stop();

  struct impl;

 private:
  explicit node(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace infermesh
