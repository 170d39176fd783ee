#pragma once
/// A small HTTP/1.1 server (Boost.Beast over Asio) for health probes and metrics scrapes: it binds only the
/// configured address, reads at most `max_request_bytes` of a request (headers included: 431/413 past that)
/// within `read_timeout` (the connection is closed past that), keeps at most `max_connections` open, and
/// hands `(method, target)` to one handler.
/// Boost stays inside http_server.cpp.
///
/// Threads: one thread of its own (never a CAF scheduler thread) accepts, reads and writes; the handler runs
/// on it, one request at a time, so it may block briefly (a scrape asks actors, bounded by a timeout) but
/// must not wait unboundedly. `stop` (and the destructor) closes the listener and every connection and joins
/// the thread; it must not be called from the handler.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "messages/outcome.hpp"

namespace infermesh {

/// The node config's `http:` section: off while `listen` is empty.
struct http_options {
  std::string listen;  ///< "host:port": an IP address (IPv6 in brackets) or "localhost", and a port 1..65535
  std::size_t max_request_bytes = 16 * 1024;
  std::chrono::milliseconds read_timeout{5000};  ///< to read a request (and to write its answer)
  std::chrono::milliseconds idle_timeout{2000};  ///< a kept-alive connection waits this long for its next request
  /// Open at once. A connection past the bound closes the longest-idle kept-alive one; with none idle, the new
  /// connection is closed (so idle clients cannot lock out a liveness probe).
  std::size_t max_connections = 64;
};

/// `listen` split and checked: `host` is an IP address ("localhost" becomes 127.0.0.1).
struct listen_address {
  std::string host;
  std::uint16_t port = 0;
};

/// Reads "host:port"; `bad_request` saying what is wrong otherwise (the caller names the key).
outcome<listen_address> parse_listen_address(const std::string& text);

/// A request, as the handler sees it.
struct http_request_line {
  std::string method;  ///< "GET", ...
  std::string target;  ///< the path, with its query if any ("/metrics", "/v2/health/ready?x=1")
};

/// The handler's answer.
struct http_answer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  ///< more header fields ("Allow", ...)
};

using http_handler = std::function<http_answer(const http_request_line&)>;

class http_server {
 public:
  /// Binds `options.listen` and starts serving with `handler`. Errors are `bad_request` naming `http.listen`:
  /// a malformed address, or one it cannot bind (in use, not an address of this host, not permitted).
  static outcome<std::unique_ptr<http_server>> start(const http_options& options, http_handler handler);
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The port bound (the configured one).
  std::uint16_t port() const;
  /// Stops serving and joins the server's thread. Idempotent; never from the handler.
  void stop();

  struct impl;

 private:
  explicit http_server(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace infermesh
