#pragma once
/// A TCP link proxy between a node and its NATS server, with Toxiproxy's faults ("toxics"): latency with
/// jitter, bandwidth, blackhole, reset, slicing. Toxiproxy is not packaged by Debian, hence this small one
/// (Boost.Asio, one I/O thread per proxy). The simulator points a node's server list at proxies
/// (`nodes[i].nats.servers` in its derived cluster file) and sets toxics on them; they live in the simulator's
/// process, so nothing of them outlives it.
///
/// Thread-safety: `set`, `clear` and the counters may be called from any thread; the proxy's own thread does
/// all I/O. Toxics apply in both directions to every connection, existing and new.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "messages/outcome.hpp"

namespace infermesh::sim {

/// One link fault and its parameters (one at a time per proxy: `set` replaces it).
struct link_toxic {
  enum class kind { none, latency, bandwidth, blackhole, reset, slice };
  kind what = kind::none;
  int latency_ms = 0;        ///< latency: each chunk is held this long...
  int jitter_ms = 0;         ///< ...plus a uniform draw in [-jitter, +jitter]
  int rate_kbps = 0;         ///< bandwidth: at most this many kilobytes per second each way
  int slice_bytes = 0;       ///< slice: chunks cut into pieces of at most this many bytes...
  int slice_delay_us = 0;    ///< ...this far apart
  std::uint64_t seed = 1;    ///< jitter's generator
};
/// blackhole: bytes are read and dropped (connections stay open, nothing arrives); reset: every connection is
/// reset now and new ones are reset as soon as they are accepted. Bandwidth's kilobyte is 1000 bytes (Toxiproxy's).

/// One proxied link: a listening port in front of one upstream server.
class link_proxy {
 public:
  /// Listens on `listen_host`:0 (a free port) and forwards each connection to `upstream_host`:`upstream_port`.
  static outcome<std::unique_ptr<link_proxy>> start(const std::string& listen_host, const std::string& upstream_host,
                                                    int upstream_port);
  ~link_proxy();  ///< closes every connection and stops the thread
  link_proxy(const link_proxy&) = delete;
  link_proxy& operator=(const link_proxy&) = delete;

  /// The port it listens on (the kernel's pick, at start).
  int port() const;
  std::string url() const;  ///< nats://listen_host:port
  /// Replaces the toxic (one at a time); returns once it applies, so every byte read afterwards sees it. Bytes
  /// latency still holds stay held under a new latency; under any other toxic their hold ends (bandwidth and
  /// slice then pace them, blackhole lets them through: they were on the link already). Not the proxy's thread.
  void set(const link_toxic& toxic);
  void clear();             ///< back to a clean link
  std::uint64_t connections() const;  ///< accepted so far
  std::uint64_t bytes_forwarded() const;
  /// Bytes read and not yet written, all connections both ways; bounded (~4 MiB a direction) by backpressure.
  std::uint64_t queued_bytes() const;

  struct impl;
 private:
  explicit link_proxy(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Reads a toxic from a fault's kind and params (`latency` {ms, jitter_ms}, `bandwidth` {kbps}, `blackhole`,
/// `reset`, `slice` {bytes, delay_us}); the error names the param.
outcome<link_toxic> parse_link_toxic(const std::string& kind, const std::map<std::string, std::string>& params);

}  // namespace infermesh::sim
