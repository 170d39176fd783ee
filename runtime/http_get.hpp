#pragma once
/// A small HTTP/1.1 GET client (Boost.Beast) with one deadline for connect, send and read: the cluster
/// launcher's readiness probes (a NATS server's /healthz, a node's /v2/health/ready). Blocks the calling
/// thread for at most `timeout`; never throws.

#include <chrono>
#include <string>

#include "messages/outcome.hpp"

namespace infermesh {

struct http_response {
  int status = 0;
  std::string body;
};

/// GET http://host:port/target. An error (`unavailable`) when it cannot connect, or no full answer came in time.
outcome<http_response> http_get(const std::string& host, int port, const std::string& target,
                                std::chrono::milliseconds timeout);

}  // namespace infermesh
