#pragma once
/// A closed-loop load generator (a benchmark tool, never a test assertion): `clients` threads each send a
/// request, wait for its reply, and send the next, for `duration`. It reports what was sent, answered and lost
/// (no reply within the timeout), latency percentiles, throughput, and the batch sizes the node reported.

#include <chrono>
#include <atomic>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "runtime/nats_transport.hpp"

namespace infermesh {

struct load_options {
  std::string op = "classify";
  std::string image_path;
  int clients = 64;
  std::chrono::milliseconds duration{10000};
  std::chrono::milliseconds timeout{30000};      ///< per try
  int attempts = 1;                              ///< tries per request (core mode's client retry; same id)
  bool durable = false;                          ///< through the JetStream work queue (send_durable), not core
  std::optional<std::string> doc_type;  ///< extract
  bool auto_rotate = true;
  /// Called (from client threads) after each answered request, with the number answered so far.
  std::function<void(std::uint64_t answered)> on_answer;
  /// When set to true, clients stop after their current request (the run ends before `duration`).
  const std::atomic<bool>* stop = nullptr;
};

struct load_report {
  std::uint64_t sent = 0;
  std::uint64_t answered = 0;
  std::uint64_t ok = 0;
  std::uint64_t lost = 0;                          ///< no reply: timeout or transport failure
  std::uint64_t retried = 0;                       ///< requests that needed more than one try
  std::map<std::string, std::uint64_t> errors;     ///< error code -> count
  std::map<int, std::uint64_t> batch_sizes;        ///< batch size -> replies
  double seconds = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0, max_ms = 0;
};

/// Runs the load; `image` is the encoded file every request carries.
load_report run_load(nats_transport& transport, const load_options& options, const std::string& image);

/// The report as human-readable lines.
std::string format_report(const load_report& report);

}  // namespace infermesh
