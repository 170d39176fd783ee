#pragma once
/// The NATS service API (ADR-32, nats.go `micro`) as plain code: the JSON a node answers on `$SRV.PING`,
/// `$SRV.INFO` and `$SRV.STATS` (subjects: messages/subjects.hpp), built from values the caller gathered, and the
/// reading of those answers back (what `infermesh status` shows). No NATS, no CAF: pure functions, any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace infermesh {

/// The three verbs of the service API.
enum class service_verb { ping, info, stats };

/// What identifies one service instance (one node process) in every answer.
struct service_identity {
  std::string name;                           ///< `wire::service_name`
  std::string id;                             ///< unique per node process (`new_service_id`)
  std::string version;                        ///< SemVer: the project's version
  std::string description;                    ///< INFO only
  std::map<std::string, std::string> metadata;  ///< node, host, models (`model_metadata`)
};

/// One endpoint: an op this node serves.
struct service_endpoint {
  std::string name;         ///< the op
  std::string subject;      ///< `wire::op_subject(op)`
  std::string queue_group;  ///< `wire::queue_group`
  std::map<std::string, std::string> metadata;
};

/// infermesh's own figures of one model, carried in the STATS endpoints' `data`.
struct model_figures {
  std::string name;
  std::string version;
  std::string state;       ///< lifecycle state (`loading`, `serving`, ...), or "unhealthy"
  std::string reason;      ///< why it is not serving, "" when it is
  bool healthy = true;
  std::uint64_t restarts = 0;
  std::uint64_t queue_depth = 0;
  std::uint64_t requests = 0;  ///< admitted by its batcher
  std::uint64_t batches = 0;
  double mean_batch = 0;
  bool loaded = true;            ///< batched models: a group is loaded now (false: unloaded or evicted)
  std::uint64_t loads = 1;       ///< groups loaded since start (start-up, reloads, loads on demand)
  std::uint64_t evictions = 0;   ///< released by max_loaded_models (least recently used)
};

/// One endpoint's counters for STATS (the router's `op_counters`) and the models its op uses here.
struct endpoint_figures {
  service_endpoint endpoint;
  std::uint64_t num_requests = 0;
  std::uint64_t num_errors = 0;
  std::string last_error;
  std::uint64_t processing_ns = 0;
  std::vector<model_figures> models;
};

/// The verb of a `$SRV` subject this instance subscribes (`$SRV.<verb>[.<name>[.<id>]]`); nullopt when the verb
/// is unknown or the subject names another service or instance.
std::optional<service_verb> parse_service_subject(std::string_view subject, std::string_view name, std::string_view id);

/// A fresh id, unique per process with overwhelming odds: 22 characters of [0-9A-Za-z] (like a NATS nuid).
std::string new_service_id();
/// `t` in RFC 3339, UTC, with nanoseconds: "2024-05-01T12:00:00.123456789Z".
std::string rfc3339(std::chrono::system_clock::time_point t);

/// The `models` metadata value: "name@version=healthy|unhealthy" joined by ",".
std::string model_metadata(const std::vector<model_figures>& models);

/// The answers. Each is one JSON object as ADR-32 defines it.
std::string ping_response(const service_identity& id);
std::string info_response(const service_identity& id, const std::vector<service_endpoint>& endpoints);
std::string stats_response(const service_identity& id, std::chrono::system_clock::time_point started,
                           const std::vector<endpoint_figures>& endpoints);
/// The answer to a request this instance cannot serve (an unknown verb): `{type, name, id, version, error}`.
/// On the wire it also carries nothing else: nats.c 3.4.1's plain publish has no headers.
std::string error_response(const service_identity& id, const std::string& message);

}  // namespace infermesh
