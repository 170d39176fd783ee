#pragma once
/// A small HTTP/1.1 client (Boost.Beast) with one deadline for connect, send and read: the cluster launcher's
/// readiness probes (a NATS server's /healthz, a node's /v2/health/ready), and the tests' requests to nodes
/// and Prometheus. Blocks the calling thread for at most `timeout`; never throws.

#include <chrono>
#include <string>

#include "messages/outcome.hpp"

namespace infermesh {

struct http_response {
  int status = 0;
  std::string body;          ///< at most 1 MiB
  std::string content_type;  ///< "" when absent
  std::string allow;         ///< the `Allow` header, "" when absent
};

/// `method` http://host:port/target. An error (`unavailable`) when it cannot connect, or no full answer came
/// in time; `bad_request` for a method HTTP does not know.
outcome<http_response> http_request(const std::string& host, int port, const std::string& method,
                                    const std::string& target, std::chrono::milliseconds timeout);

inline outcome<http_response> http_get(const std::string& host, int port, const std::string& target,
                                       std::chrono::milliseconds timeout) {
  return http_request(host, port, "GET", target, timeout);
}

}  // namespace infermesh
