#pragma once
/// Readiness as plain policy (KServe v2 `GET /v2/health/ready`, `GET /v2/models/{name}/ready`): from what the
/// node knows now — NATS connected, its ops subscribed, each hosted model loaded and healthy — the HTTP
/// status (200 or 503) and the reason in words. No sockets, no actors, no NATS: pure functions, any thread.
/// Liveness is not here: it asks whether the process and its actors respond, never whether NATS is up.

#include <optional>
#include <string>
#include <vector>

namespace infermesh {

/// Where one hosted model is, as readiness sees it.
enum class model_phase {
  loading,    ///< not loaded and warmed up yet (start-up)
  serving,    ///< loaded, and no supervisor of it says it is unhealthy
  unhealthy,  ///< past its restart intensity, or a replacement overdue (the health gate's view)
  unloaded,   ///< unloaded by an operator's command: the node no longer takes the ops that need it
  on_demand,  ///< not loaded (max_loaded_models) or loading for a request: the node takes its ops and loads
              ///< it when one needs it, so the node is ready; the model itself is not
};

struct model_readiness {
  std::string name;
  model_phase phase = model_phase::loading;
};

/// Everything readiness depends on, gathered by the node at the time of the question.
struct readiness_inputs {
  bool connected = false;       ///< to a NATS server now
  bool subscribed = false;      ///< the node's ops are subscribed (start-up finished)
  bool draining = false;        ///< graceful shutdown has begun
  bool router_healthy = true;   ///< the router is within its restart intensity
  std::vector<model_readiness> models;  ///< every hosted model, in config order
};

/// An HTTP answer to a readiness question.
struct readiness_verdict {
  int status = 503;    ///< 200 ready, 503 not ready, 404 no such model
  std::string reason;  ///< "ready", or every reason it is not, joined by "; "
  bool ready() const { return status == 200; }
};

/// The node's readiness: 200 when connected, subscribed, not draining, the router healthy and every model
/// serving or loading on demand; else 503 naming each reason ("loading model 'm'", "model 'm' is unhealthy",
/// "model 'm' is unloaded", "not connected to NATS", ...).
readiness_verdict node_readiness(const readiness_inputs& in);

/// One model's readiness: 404 when the node does not host `name`; 200 while it is serving; else 503 (also
/// on demand: "model 'm' is not loaded (loads on demand)").
readiness_verdict model_readiness_of(const readiness_inputs& in, const std::string& name);

}  // namespace infermesh
