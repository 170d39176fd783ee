#pragma once
/// The workload of a simulation: requests sent over the wire contract (runtime/request_client.hpp, exactly what
/// a user's client does) while faults are injected, each recorded as a request_record.
///
/// Open loop (poisson, constant): a pacer thread releases each request at its intended time (schedule.hpp's
/// arrival_times); `max_in_flight` sender threads send them. Latency counts from the intended time, so a stalled
/// cluster shows as latency, not as fewer requests (coordinated omission). A request that finds `max_in_flight`
/// requests already sending or waiting for a sender is `shed` (never sent; shown, not a loss). Closed loop: `clients`
/// threads each send the next request when the last one is answered.
/// Core ops go through send_with_retries (same id each try), durable ones through send_durable.
/// Thread-safety: `progress` from any thread; `run` once, from one thread.

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include "runtime/nats_transport.hpp"
#include "simulator/run_record.hpp"

namespace infermesh::sim {

/// An input file, loaded once (every request of it shares the bytes).
struct workload_input {
  std::string path;
  std::string bytes;
};

/// The inputs of `folder` (images and documents: .jpg .jpeg .png .pdf .tif .tiff), sorted by name; errors name
/// the folder.
outcome<std::vector<workload_input>> load_inputs(const std::string& folder);

/// Counters while the workload runs (the progress line).
struct workload_progress {
  std::uint64_t sent = 0, answered = 0, errors = 0, lost = 0, in_flight = 0;
  double p99_last_second_ms = 0;
};

/// One run's requests: sent, timed and recorded.
class workload {
 public:
  /// `durable`: op -> through JetStream. `t0`: the run's clock origin (record times are ms since it).
  workload(nats_transport& transport, workload_spec spec, std::vector<workload_input> inputs,
           std::map<std::string, bool> durable, std::uint64_t seed, std::chrono::steady_clock::time_point t0);
  /// Sends for warm-up + duration starting now (warm-up starts at `warmup_start_ms` of the run clock), then
  /// waits for every request still in flight (each ends by its timeout). `stop`: end early (SIGINT).
  std::vector<request_record> run(const std::atomic<bool>& stop);
  /// The counters now, and the p99 of the replies of the last second.
  workload_progress progress();
  /// The id prefix of this run's requests (`sim-<8 hex>-`): the independent counter counts only these.
  const std::string& id_prefix() const { return prefix_; }

 private:
  double now_ms() const;
  request_record send_one(std::size_t n, const std::string& op, std::size_t input, double intended_ms);

  nats_transport& transport_;
  workload_spec spec_;
  std::vector<workload_input> inputs_;
  std::map<std::string, bool> durable_;
  std::uint64_t seed_;
  std::chrono::steady_clock::time_point t0_;
  std::string prefix_;
  std::mutex mutex_;
  workload_progress progress_;
  std::vector<std::pair<double, double>> recent_;  ///< (reply ms, latency ms) of the last seconds
};

}  // namespace infermesh::sim
