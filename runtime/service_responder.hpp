#pragma once
/// The node part that answers the NATS service API (ADR-32) on `$SRV.*` (service_api.hpp builds the JSON).
/// Plain subscriptions, no queue group: every node answers every discovery request.
///
/// Threads: the handlers run on nats.c delivery threads. PING and INFO answer from values fixed at start-up
/// plus `health` (a mutex-guarded read); STATS calls `collect`, which may ask actors but must return within a
/// short bound (the node bounds it at `stats_timeout`). `stop` unsubscribes (a draining node disappears).

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include "messages/outcome.hpp"
#include "runtime/nats_transport.hpp"
#include "runtime/service_api.hpp"

namespace infermesh {

struct service_sources {
  service_identity identity;  ///< `metadata` without `models` (filled from `health` at each answer)
  std::vector<service_endpoint> endpoints;
  std::chrono::system_clock::time_point started;
  /// Each hosted model's name, version and health now (no actor asked). Thread-safe.
  std::function<std::vector<model_figures>()> health;
  /// Every endpoint's counters and its models' figures; bounded in time. Thread-safe.
  std::function<std::vector<endpoint_figures>()> collect;
};

class service_responder {
 public:
  /// Subscribes the three `$SRV` forms (`wire::service_subscriptions`); errors name the subject.
  static outcome<std::unique_ptr<service_responder>> start(nats_transport& transport, service_sources sources);
  ~service_responder();
  /// Stops answering. Idempotent.
  void stop();

 private:
  service_responder(nats_transport& transport, std::shared_ptr<const service_sources> sources);
  nats_transport& transport_;
  std::shared_ptr<const service_sources> sources_;
  std::vector<int> subscriptions_;
};

}  // namespace infermesh
