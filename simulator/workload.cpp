#include "simulator/workload.hpp"

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "runtime/request_client.hpp"

namespace infermesh::sim {
namespace fs = std::filesystem;

outcome<std::vector<workload_input>> load_inputs(const std::string& folder) {
  std::error_code e;
  if (!fs::is_directory(folder, e)) return error{error_code::not_found, "workload.inputs: '" + folder + "' is not a folder"};
  std::vector<workload_input> out;
  for (const auto& entry : fs::directory_iterator(folder, e)) {
    auto ext = entry.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!entry.is_regular_file() || (ext != ".jpg" && ext != ".jpeg" && ext != ".png" && ext != ".pdf" &&
                                     ext != ".tif" && ext != ".tiff"))
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    out.push_back({entry.path().string(), bytes.str()});
  }
  if (out.empty()) return error{error_code::not_found, "workload.inputs: '" + folder + "' has no image or document"};
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

namespace {

/// `extract` needs a doc_type: the input's name says it (`invoice-upright.jpg`, `id-card-...`), else invoice.
std::string doc_type_of(const std::string& path) {
  const auto stem = fs::path(path).stem().string();
  for (const char* t : {"invoice", "receipt", "letter", "form"})
    if (stem.rfind(t, 0) == 0) return t;
  if (stem.rfind("id-card", 0) == 0 || stem.rfind("id_card", 0) == 0) return "id_card";
  return "invoice";
}

std::string hex8(std::uint64_t seed) {
  std::mt19937_64 g(seed ^ static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()));
  char b[9];
  std::snprintf(b, sizeof b, "%08llx", static_cast<unsigned long long>(g() & 0xffffffffULL));
  return b;
}

}  // namespace

workload::workload(nats_transport& transport, workload_spec spec, std::vector<workload_input> inputs,
                   std::map<std::string, bool> durable, std::uint64_t seed, std::chrono::steady_clock::time_point t0)
    : transport_(transport),
      spec_(std::move(spec)),
      inputs_(std::move(inputs)),
      durable_(std::move(durable)),
      seed_(seed),
      t0_(t0),
      prefix_("sim-" + hex8(seed) + "-") {
  for (const auto& [op, on] : spec_.durable) durable_[op] = on;
}

double workload::now_ms() const {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0_).count();
}

request_record workload::send_one(std::size_t n, const std::string& op, std::size_t input, double intended_ms) {
  request_record r;
  r.id = prefix_ + std::to_string(n);
  r.op = op;
  r.durable = durable_.count(op) && durable_.at(op);
  r.intended_ms = intended_ms;
  request req;
  req.id = r.id;
  const auto& in = inputs_[input % inputs_.size()];
  req.image = shared_bytes::copy_of(in.bytes);
  if (op == "extract") req.doc_type = doc_type_of(in.path);
  {
    std::lock_guard<std::mutex> g(mutex_);
    ++progress_.sent;
    ++progress_.in_flight;
  }
  r.sent_ms = now_ms();
  reply rep;
  if (r.durable) {
    rep = send_durable(transport_, op, req, encoding::msgpack, spec_.timeout);
  } else {
    retry_policy policy{spec_.attempts, spec_.attempt_timeout, spec_.backoff};
    rep = send_with_retries(transport_, op, req, encoding::msgpack, policy, &r.tries);
  }
  const double done = now_ms();
  // The transport's own failures: nothing answered. A timeout after it was sent (or accepted by the stream) is a
  // loss; `unavailable` (no node serves the op, the queue refused it) was never accepted: an error, not a loss.
  const bool unanswered = !rep.ok && rep.failure && rep.node.empty();
  const bool no_reply = unanswered && rep.failure->code == error_code::deadline_exceeded;
  if (unanswered && !no_reply) {  // no reply_ms: no reply came (the independent counter sees none either)
    r.code = std::string(to_string(rep.failure->code));
  } else if (no_reply) {
    r.code = "lost";
  } else {
    r.reply_ms = done;
    r.node = rep.node;
    r.code = rep.ok ? "ok" : std::string(to_string(rep.failure->code));
  }
  std::lock_guard<std::mutex> g(mutex_);
  --progress_.in_flight;
  if (no_reply) ++progress_.lost;
  else ++progress_.answered;
  if (!rep.ok && !no_reply) ++progress_.errors;
  if (!no_reply) recent_.emplace_back(done, done - intended_ms);
  return r;
}

std::vector<request_record> workload::run(const std::atomic<bool>& stop) {
  const double start = now_ms();
  const double end = start + static_cast<double>((spec_.warmup + spec_.duration).count());
  std::mutex m;
  std::vector<request_record> records;
  std::vector<std::thread> threads;
  if (spec_.kind == workload_spec::arrivals::closed) {
    std::atomic<std::size_t> next{0};
    const auto choices = arrival_choices(spec_, 1 << 20, inputs_.size(), derive_seed(seed_, arrival_choices_stream));
    for (int c = 0; c < spec_.clients; ++c)
      threads.emplace_back([&] {
        while (!stop && now_ms() < end) {
          const auto n = next++;
          const auto& choice = choices[n % choices.size()];
          auto r = send_one(n, choice.op, choice.input, now_ms());
          std::lock_guard<std::mutex> g(m);
          records.push_back(std::move(r));
        }
      });
    for (auto& t : threads) t.join();
    return records;
  }
  const auto arrivals = arrival_times(spec_, derive_seed(seed_, arrivals_stream));
  const auto choices = arrival_choices(spec_, arrivals.size(), inputs_.size(), derive_seed(seed_, arrival_choices_stream));
  struct job {
    std::size_t n;
    double intended;
  };
  std::deque<job> queue;
  std::condition_variable ready;
  bool done = false;
  std::size_t busy = 0;
  for (int w = 0; w < spec_.max_in_flight; ++w)
    threads.emplace_back([&] {
      for (;;) {
        job j;
        {
          std::unique_lock<std::mutex> g(m);
          ready.wait(g, [&] { return done || !queue.empty(); });
          if (queue.empty()) return;
          j = queue.front();
          queue.pop_front();
          ++busy;
        }
        auto r = send_one(j.n, choices[j.n].op, choices[j.n].input, j.intended);
        std::lock_guard<std::mutex> g(m);
        --busy;
        records.push_back(std::move(r));
      }
    });
  for (std::size_t n = 0; n < arrivals.size() && !stop; ++n) {
    const double intended = start + static_cast<double>(arrivals[n].count()) / 1000.0;
    if (intended >= end) break;
    std::this_thread::sleep_until(t0_ + std::chrono::microseconds(static_cast<std::int64_t>(intended * 1000.0)));
    std::lock_guard<std::mutex> g(m);
    if (busy + queue.size() >= static_cast<std::size_t>(spec_.max_in_flight)) {  // every sender busy, and as many waiting
      request_record shed;
      shed.id = prefix_ + std::to_string(n);
      shed.op = choices[n].op;
      shed.intended_ms = shed.sent_ms = intended;
      shed.code = "shed";
      records.push_back(std::move(shed));
      continue;
    }
    queue.push_back({n, intended});
    ready.notify_one();
  }
  {
    std::lock_guard<std::mutex> g(m);
    done = true;
  }
  ready.notify_all();
  for (auto& t : threads) t.join();
  std::sort(records.begin(), records.end(), [](const auto& a, const auto& b) { return a.intended_ms < b.intended_ms; });
  return records;
}

workload_progress workload::progress() {
  std::lock_guard<std::mutex> g(mutex_);
  const double now = now_ms();
  recent_.erase(std::remove_if(recent_.begin(), recent_.end(), [&](const auto& p) { return p.first < now - 1000; }),
                recent_.end());
  std::vector<double> l;
  for (const auto& p : recent_) l.push_back(p.second);
  std::sort(l.begin(), l.end());
  progress_.p99_last_second_ms = l.empty() ? 0 : l[std::min(l.size() - 1, static_cast<std::size_t>(0.99 * l.size()))];
  return progress_;
}

}  // namespace infermesh::sim
