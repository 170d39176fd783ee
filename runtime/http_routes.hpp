#pragma once
/// What the node's HTTP server answers, as plain code (no sockets): the KServe v2 health paths and the
/// Prometheus scrape. Every path takes GET only (405 with `Allow: GET` otherwise); any other path is 404.
///   GET /v2/health/live          200 while the process and its actors respond (never tied to NATS)
///   GET /v2/health/ready         200 when the node serves (readiness.hpp), else 503 with the reason
///   GET /v2/models/{name}/ready  200 / 503 for a hosted model, 404 for one this node does not host
///   GET /metrics                 the metrics in Prometheus text format (metrics.hpp)
/// Thread: whichever calls `answer_http` (the HTTP server's thread); the sources say what they may block on.

#include <functional>
#include <string>

#include "runtime/http_server.hpp"
#include "runtime/readiness.hpp"

namespace infermesh {

struct http_sources {
  /// Whether the node's actors respond now: "" when they do, else why not. Bounded in time.
  std::function<std::string()> live;
  /// What readiness depends on now. Does not ask actors.
  std::function<readiness_inputs()> readiness;
  /// Every metric in Prometheus text format (asks actors, bounded in time).
  std::function<std::string()> metrics;
};

/// The content type of a Prometheus text exposition.
inline constexpr const char* prometheus_text_type = "text/plain; version=0.0.4; charset=utf-8";

/// The answer to `req`.
http_answer answer_http(const http_sources& sources, const http_request_line& req);

}  // namespace infermesh
