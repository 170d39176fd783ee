#pragma once
/// A plain HTTP/1.1 client for tests (Boost.Beast): one GET (or another method) to 127.0.0.1, bounded in time,
/// and percent-encoding for query strings (Prometheus's query API).

#include <chrono>
#include <optional>
#include <string>

namespace infermesh::test {

struct http_reply {
  int status = 0;
  std::string body;
  std::string content_type;
  std::string allow;  ///< the `Allow` header, "" when absent
};

/// `method target` to 127.0.0.1:`port`; nullopt when nothing answered within `timeout` (refused, reset, ...).
std::optional<http_reply> http_request(int port, const std::string& method, const std::string& target,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(10));
inline std::optional<http_reply> http_get(int port, const std::string& target,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return http_request(port, "GET", target, timeout);
}

/// Bytes written to 127.0.0.1:`port` as they are (a malformed or oversized request), and the status line's
/// code of what came back (0: nothing).
int raw_http_status(int port, const std::string& bytes, std::chrono::milliseconds timeout = std::chrono::seconds(10));

/// `s` percent-encoded for a URL query value.
std::string url_encoded(const std::string& s);

}  // namespace infermesh::test
