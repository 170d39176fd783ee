#pragma once
/// `infermesh status`: finds every node through the NATS service API (`$SRV.PING|INFO|STATS.infermesh`,
/// answers gathered for a bounded time) and shows one line per node: node, host, ops, models (state, version,
/// restarts), queue depth, requests, errors, average processing time, uptime. Called on the CLI's main thread.

#include <chrono>
#include <string>
#include <vector>

#include "runtime/nats_transport.hpp"
#include "runtime/service_api.hpp"

namespace infermesh {

/// One node as its discovery answers describe it.
struct node_status {
  std::string id;       ///< the service instance id
  std::string node;     ///< metadata `node`
  std::string host;     ///< metadata `host`
  std::string version;
  std::vector<std::string> ops;      ///< INFO's endpoints (else STATS')
  std::vector<model_figures> models; ///< from STATS' endpoint data, else PING's `models` metadata (health only)
  std::uint64_t queue_depth = 0;     ///< summed over its models
  std::uint64_t requests = 0;        ///< summed over its endpoints
  std::uint64_t errors = 0;
  double average_ms = 0;             ///< processing time per request, over every endpoint
  double uptime_s = -1;              ///< from STATS' `started`; -1 without a STATS answer
  std::string ping, info, stats;     ///< the raw answers ("" when that one did not come)
};

/// Sends PING, INFO and STATS to every node at once and gathers the answers for `wait`. Nodes sorted by name.
/// Answers that are not JSON objects of the service API are ignored.
std::vector<node_status> discover_nodes(nats_transport& transport, std::chrono::milliseconds wait);

/// The table, header first; "no infermesh node answered" when `nodes` is empty.
std::string format_status_table(const std::vector<node_status>& nodes);
/// `{"nodes": [{node, host, id, version, ops, models, queue_depth, requests, errors, average_processing_ms,
/// uptime_s, ping, info, stats}]}` (the raw answers parsed, null when missing), one line.
std::string format_status_json(const std::vector<node_status>& nodes);

}  // namespace infermesh
