#pragma once
/// A real Prometheus server for one test (Debian `prometheus` 2.42, /usr/bin/prometheus): 127.0.0.1 on a free
/// port, scraping `targets` (host:port on loopback) every second, its TSDB in its own temp folder; stopped by
/// PID and the folder removed when the fixture ends. `query` asks its HTTP API (`/api/v1/query`).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/child_process.hpp"

namespace infermesh::test {

class prometheus_server {
 public:
  /// Starts Prometheus scraping `/metrics` of each of `targets` ("127.0.0.1:PORT") as job "infermesh".
  explicit prometheus_server(const std::vector<std::string>& targets);
  ~prometheus_server();
  prometheus_server(const prometheus_server&) = delete;
  prometheus_server& operator=(const prometheus_server&) = delete;

  int port() const { return port_; }
  /// The value of an instant query whose result is one sample (a vector of one series, or a scalar);
  /// nullopt when the query fails or returns no sample (not scraped yet). Throws on an API error answer.
  std::optional<double> query_value(const std::string& promql);
  /// Polls `query_value(promql)` until `done(value)` holds (every 250 ms, at most `timeout`); the last value.
  template <class Done>
  std::optional<double> wait_for_value(const std::string& promql, Done done, std::chrono::milliseconds timeout);
  child_process& process() { return *process_; }

 private:
  int port_ = 0;
  std::string dir_;
  std::unique_ptr<child_process> process_;
};

template <class Done>
std::optional<double> prometheus_server::wait_for_value(const std::string& promql, Done done,
                                                        std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  std::optional<double> last;
  for (;;) {
    last = query_value(promql);
    if ((last && done(*last)) || std::chrono::steady_clock::now() >= until) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));  // Prometheus scrapes every 1 s: poll interval
  }
}

}  // namespace infermesh::test
