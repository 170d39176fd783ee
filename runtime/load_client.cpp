#include "runtime/load_client.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "runtime/request_client.hpp"

namespace infermesh {

load_report run_load(nats_transport& transport, const load_options& options, const std::string& image) {
  request req;
  req.image = shared_bytes::copy_of(image);
  req.doc_type = options.doc_type;
  req.auto_rotate = options.auto_rotate;
  std::mutex mutex;
  load_report report;
  std::vector<double> latencies;
  std::atomic<std::uint64_t> answered_so_far{0};
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + options.duration;
  // Ids unique to this run: a second run within the reply cache's TTL (or JetStream's duplicate window) is
  // computed again, not answered from memory.
  const std::string run = random_request_id().substr(4, 8);
  std::vector<std::thread> clients;
  for (int c = 0; c < options.clients; ++c) {
    clients.emplace_back([&, c] {
      load_report mine;
      std::vector<double> my_latencies;
      request r = req;
      for (std::uint64_t n = 0; std::chrono::steady_clock::now() < until && !(options.stop && *options.stop); ++n) {
        r.id = "load-" + run + "-" + std::to_string(c) + "-" + std::to_string(n);
        const auto sent = std::chrono::steady_clock::now();
        int tries = 1;
        auto rep = options.durable
                       ? send_durable(transport, options.op, r, encoding::msgpack, options.timeout)
                       : send_with_retries(transport, options.op, r, encoding::msgpack,
                                           {options.attempts, options.timeout, std::chrono::milliseconds(100)}, &tries);
        if (tries > 1) ++mine.retried;
        const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - sent;
        ++mine.sent;
        const bool no_reply = !rep.ok && rep.failure && rep.node.empty();  // transport-level: never answered
        if (no_reply) {
          ++mine.lost;
          ++mine.errors[std::string(to_string(rep.failure->code)) + " (no reply)"];
          continue;
        }
        ++mine.answered;
        if (options.on_answer) options.on_answer(++answered_so_far);
        my_latencies.push_back(took.count());
        if (rep.ok) ++mine.ok;
        else ++mine.errors[std::string(to_string(rep.failure->code))];
        if (rep.time.batch_size > 0) ++mine.batch_sizes[rep.time.batch_size];
      }
      std::lock_guard<std::mutex> guard(mutex);
      report.sent += mine.sent;
      report.answered += mine.answered;
      report.ok += mine.ok;
      report.lost += mine.lost;
      report.retried += mine.retried;
      for (const auto& [k, v] : mine.errors) report.errors[k] += v;
      for (const auto& [k, v] : mine.batch_sizes) report.batch_sizes[k] += v;
      latencies.insert(latencies.end(), my_latencies.begin(), my_latencies.end());
    });
  }
  for (auto& t : clients) t.join();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty() ? 0.0 : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))];
  };
  report.p50_ms = pct(0.50);
  report.p90_ms = pct(0.90);
  report.p99_ms = pct(0.99);
  report.max_ms = latencies.empty() ? 0.0 : latencies.back();
  return report;
}

std::string format_report(const load_report& r) {
  std::ostringstream out;
  out.setf(std::ios::fixed);
  out.precision(1);
  out << "sent " << r.sent << "  answered " << r.answered << "  ok " << r.ok << "  lost " << r.lost << "  retried "
      << r.retried << "  in "
      << r.seconds << " s (" << (r.seconds > 0 ? r.answered / r.seconds : 0) << " replies/s)\n";
  out << "latency ms: p50 " << r.p50_ms << "  p90 " << r.p90_ms << "  p99 " << r.p99_ms << "  max " << r.max_ms
      << "\n";
  if (!r.errors.empty()) {
    out << "errors:";
    for (const auto& [code, n] : r.errors) out << "  " << code << " " << n;
    out << "\n";
  }
  std::uint64_t items = 0;
  double weighted = 0;
  out << "batch sizes (replies per size):";
  for (const auto& [size, n] : r.batch_sizes) {
    out << "  " << size << ":" << n;
    items += n;
    weighted += static_cast<double>(size) * static_cast<double>(n);
  }
  out << "\nmean batch size seen by a request: " << (items ? weighted / static_cast<double>(items) : 0.0) << "\n";
  return out.str();
}

}  // namespace infermesh
