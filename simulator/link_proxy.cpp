#include "simulator/link_proxy.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <deque>
#include <future>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio.hpp>

namespace infermesh::sim {

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using sys_error = boost::system::error_code;  // not infermesh::error_code, the wire's codes

// One read's worth: large enough that a clean link costs little per byte, small enough that a delayed
// direction's queue is counted in fine steps.
constexpr std::size_t read_bytes = 64 * 1024;
// A delayed direction stops reading its source beyond this: the sender then feels TCP backpressure, as it
// would on a slow link, instead of the proxy holding an unbounded backlog.
constexpr std::size_t max_queued_bytes = 4 * 1024 * 1024;
// What a queued chunk costs beside its bytes, so that many tiny reads are bounded too.
constexpr std::size_t chunk_overhead = 64;
// Bandwidth is paced in writes of this much of a second's allowance: fine enough to look smooth, coarse enough
// that timers do not dominate.
constexpr int bandwidth_steps_per_second = 50;
// Kilobytes are 1000 bytes, as in Toxiproxy's `rate` (toxics/bandwidth.go: len/rate milliseconds).
constexpr std::int64_t bytes_per_kilobyte = 1000;

void close_socket(tcp::socket& s, bool reset) {
  sys_error ignored;
  // SO_LINGER {1, 0}: close() then sends RST instead of FIN, which is what Toxiproxy's reset_peer does.
  if (reset && s.is_open()) s.set_option(asio::socket_base::linger(true, 0), ignored);
  s.close(ignored);
}

}  // namespace

// Named, not anonymous: link_proxy::impl (external linkage) holds these.
namespace proxy_detail {
struct connection;
}

struct link_proxy::impl {
  // Declared first so it is destroyed last: everything below holds objects bound to it.
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{io};
  asio::steady_timer accept_retry{io};
  tcp::resolver::results_type upstream;
  std::string listen_host;
  int port = 0;

  // Only the I/O thread touches these.
  link_toxic toxic;
  std::mt19937_64 jitter{toxic.seed};
  std::set<std::shared_ptr<proxy_detail::connection>> live;

  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> forwarded{0};
  std::atomic<std::uint64_t> queued{0};
  std::thread thread;

  void accept();
  void on_accepted(tcp::socket client);
  void apply(const link_toxic& t);
  void shutdown();
  /// Runs `f` on the I/O thread and returns once it ran (at once when already there).
  template <class F>
  void run_on_io(F f);
};

namespace proxy_detail {

/// Bytes read from one side, waiting to be written to the other no earlier than `due`.
struct chunk {
  std::vector<char> bytes;
  std::size_t sent = 0;
  steady::time_point due;
};

/// One direction of a connection: reads `from`, queues, writes `to` as the toxic allows.
struct pipe {
  explicit pipe(asio::io_context& io, tcp::socket& f, tcp::socket& t) : from(f), to(t), timer(io) {}
  tcp::socket& from;
  tcp::socket& to;
  std::vector<char> buffer;
  std::deque<chunk> queue;
  std::size_t queued = 0;          // bytes plus chunk_overhead per chunk
  // The queue is FIFO, so bytes keep their order whatever jitter draws; due times are kept monotone too, so a
  // short draw behind a long one is honestly late rather than seemingly overdue.
  steady::time_point last_due;
  steady::time_point next_write;   // bandwidth and slice pacing
  asio::steady_timer timer;
  bool reading = false, writing = false, waiting = false;
  bool source_ended = false, sink_shut = false;
};

/// A client's socket and its upstream socket, pumped both ways; owned by `impl::live` and by its pending
/// handlers. I/O thread only.
struct connection : std::enable_shared_from_this<connection> {
  connection(link_proxy::impl& p, tcp::socket c)
      : proxy(p), client(std::move(c)), upstream(p.io), up(p.io, client, upstream), down(p.io, upstream, client) {}

  link_proxy::impl& proxy;
  tcp::socket client;
  tcp::socket upstream;
  pipe up;    // client -> upstream
  pipe down;  // upstream -> client
  bool closed = false;

  void begin() {
    sys_error ignored;
    // Latency is the toxic's to add, not Nagle's.
    client.set_option(tcp::no_delay(true), ignored);
    upstream.set_option(tcp::no_delay(true), ignored);
    read(up);
    read(down);
  }

  void read(pipe& p) {
    if (closed || p.reading || p.source_ended || p.queued > max_queued_bytes) return;
    p.reading = true;
    p.buffer.resize(read_bytes);
    p.from.async_read_some(asio::buffer(p.buffer), [self = shared_from_this(), &p](sys_error ec, std::size_t n) {
      self->on_read(p, ec, n);
    });
  }

  void on_read(pipe& p, sys_error ec, std::size_t n) {
    p.reading = false;
    if (closed) return;
    if (n > 0 && proxy.toxic.what != link_toxic::kind::blackhole) {
      auto due = steady::now();
      if (proxy.toxic.what == link_toxic::kind::latency) {
        const std::int64_t jitter_us = std::int64_t{proxy.toxic.jitter_ms} * 1000;
        std::int64_t delay_us = std::int64_t{proxy.toxic.latency_ms} * 1000;
        if (jitter_us > 0) delay_us += std::uniform_int_distribution<std::int64_t>(-jitter_us, jitter_us)(proxy.jitter);
        due += std::chrono::microseconds(std::max<std::int64_t>(0, delay_us));
      }
      p.last_due = due = std::max(due, p.last_due);
      // Copied to its exact size: a queue of small reads must not hold 64 KiB buffers each.
      p.queue.push_back(chunk{std::vector<char>(p.buffer.begin(), p.buffer.begin() + static_cast<std::ptrdiff_t>(n)), 0,
                              due});
      p.queued += n + chunk_overhead;
      proxy.queued += n;
    }
    if (ec) {
      if (ec != asio::error::eof) return close(false);
      p.source_ended = true;  // the sink is shut for sending once what was read is written (pump)
    }
    pump(p);
    read(p);
  }

  void pump(pipe& p) {
    if (closed || p.writing || p.waiting) return;
    if (p.queue.empty()) {
      if (p.source_ended && !p.sink_shut) {
        p.sink_shut = true;
        sys_error ignored;
        p.to.shutdown(tcp::socket::shutdown_send, ignored);
        if (up.sink_shut && down.sink_shut) close(false);
      }
      return;
    }
    chunk& front = p.queue.front();
    const auto now = steady::now();
    const auto at = std::max(front.due, p.next_write);
    if (at > now) {
      p.waiting = true;
      p.timer.expires_at(at);
      p.timer.async_wait([self = shared_from_this(), &p](sys_error) {
        p.waiting = false;
        self->pump(p);
      });
      return;
    }
    std::size_t n = front.bytes.size() - front.sent;
    const link_toxic& t = proxy.toxic;
    if (t.what == link_toxic::kind::slice) {
      n = std::min(n, static_cast<std::size_t>(t.slice_bytes));
      p.next_write = now + std::chrono::microseconds(t.slice_delay_us);
    } else if (t.what == link_toxic::kind::bandwidth) {
      const std::int64_t rate = std::int64_t{t.rate_kbps} * bytes_per_kilobyte;  // bytes per second
      const auto step = std::clamp<std::int64_t>(rate / bandwidth_steps_per_second, 1, read_bytes);
      n = std::min(n, static_cast<std::size_t>(step));
      const auto cost = [rate](std::int64_t bytes) { return std::chrono::nanoseconds(bytes * 1'000'000'000 / rate); };
      // A token bucket one step deep: a late timer is made up for by the next write, an idle link saves up
      // no more than one step.
      p.next_write = std::max(p.next_write, now - cost(step)) + cost(static_cast<std::int64_t>(n));
    }
    p.writing = true;
    asio::async_write(p.to, asio::buffer(front.bytes.data() + front.sent, n),
                      [self = shared_from_this(), &p](sys_error ec, std::size_t written) {
                        self->on_written(p, ec, written);
                      });
  }

  void on_written(pipe& p, sys_error ec, std::size_t n) {
    p.writing = false;
    if (closed) return;
    if (ec) return close(false);
    proxy.forwarded += n;
    proxy.queued -= n;
    chunk& front = p.queue.front();
    front.sent += n;
    p.queued -= n;
    if (front.sent == front.bytes.size()) {
      p.queue.pop_front();
      p.queued -= chunk_overhead;
    }
    read(p);  // resumes a source stopped by backpressure
    pump(p);
  }

  /// The toxic changed: held chunks go now unless the new one delays them too; pacing starts afresh.
  void retime(const link_toxic& t) {
    for (pipe* p : {&up, &down}) {
      if (t.what != link_toxic::kind::latency) {
        for (auto& c : p->queue) c.due = steady::time_point{};
        p->last_due = steady::time_point{};
      }
      p->next_write = steady::time_point{};
      if (p->waiting) p->timer.cancel();  // its handler pumps again under the new toxic
    }
  }

  void close(bool reset) {
    if (closed) return;
    closed = true;
    close_socket(client, reset);
    close_socket(upstream, reset);
    up.timer.cancel();
    down.timer.cancel();
    proxy.queued -= (up.queued - up.queue.size() * chunk_overhead) + (down.queued - down.queue.size() * chunk_overhead);
    proxy.live.erase(shared_from_this());
  }
};

}  // namespace proxy_detail

using proxy_detail::connection;

void link_proxy::impl::accept() {
  acceptor.async_accept([this](sys_error ec, tcp::socket client) {
    if (!acceptor.is_open()) return;
    if (ec) {
      // Out of descriptors and the like: try again shortly rather than spin.
      accept_retry.expires_after(std::chrono::milliseconds(50));
      accept_retry.async_wait([this](sys_error e) {
        if (!e) accept();
      });
      return;
    }
    ++accepted;
    on_accepted(std::move(client));
    accept();
  });
}

void link_proxy::impl::on_accepted(tcp::socket client) {
  if (toxic.what == link_toxic::kind::reset) return close_socket(client, true);
  auto c = std::make_shared<connection>(*this, std::move(client));
  live.insert(c);
  asio::async_connect(c->upstream, upstream, [c](sys_error ec, const tcp::endpoint&) {
    if (c->closed) return;
    if (ec) return c->close(false);  // the client sees its connection closed, as with an unreachable server
    c->begin();
  });
}

void link_proxy::impl::apply(const link_toxic& t) {
  toxic = t;
  jitter.seed(t.seed);
  if (t.what == link_toxic::kind::reset) {
    for (auto& c : std::vector<std::shared_ptr<connection>>(live.begin(), live.end())) c->close(true);
    return;
  }
  for (auto& c : live) c->retime(t);
}

void link_proxy::impl::shutdown() {
  sys_error ignored;
  acceptor.close(ignored);
  accept_retry.cancel();
  for (auto& c : std::vector<std::shared_ptr<connection>>(live.begin(), live.end())) c->close(false);
  live.clear();
  work.reset();
  io.stop();
}

template <class F>
void link_proxy::impl::run_on_io(F f) {
  if (io.get_executor().running_in_this_thread()) return f();
  std::promise<void> done;
  asio::post(io, [&] {
    f();
    done.set_value();
  });
  done.get_future().wait();
}

link_proxy::link_proxy(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

link_proxy::~link_proxy() {
  asio::post(impl_->io, [p = impl_.get()] { p->shutdown(); });
  impl_->thread.join();
}

outcome<std::unique_ptr<link_proxy>> link_proxy::start(const std::string& listen_host, const std::string& upstream_host,
                                                       int upstream_port) {
  if (upstream_port < 1 || upstream_port > 65535)
    return error{error_code::bad_request,
                 "link_proxy: upstream port " + std::to_string(upstream_port) + " is not 1..65535"};
  auto p = std::make_unique<impl>();
  p->listen_host = listen_host;
  sys_error ec;
  tcp::resolver resolver(p->io);
  p->upstream = resolver.resolve(upstream_host, std::to_string(upstream_port), ec);
  if (ec)
    return error{error_code::unavailable, "link_proxy: cannot resolve upstream " + upstream_host + ": " + ec.message()};
  auto local = resolver.resolve(listen_host, "0", ec);
  if (ec || local.empty())
    return error{error_code::unavailable,
                 "link_proxy: cannot resolve listen host " + listen_host + ": " + ec.message()};
  const tcp::endpoint endpoint = *local.begin();
  p->acceptor.open(endpoint.protocol(), ec);
  if (!ec) p->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(endpoint, ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return error{error_code::unavailable, "link_proxy: cannot listen on " + listen_host + ": " + ec.message()};
  p->port = p->acceptor.local_endpoint(ec).port();
  if (ec) return error{error_code::unavailable, "link_proxy: no local port: " + ec.message()};
  p->accept();
  p->thread = std::thread([raw = p.get()] { raw->io.run(); });
  return std::unique_ptr<link_proxy>(new link_proxy(std::move(p)));
}

int link_proxy::port() const { return impl_->port; }

std::string link_proxy::url() const {
  const bool v6 = impl_->listen_host.find(':') != std::string::npos;
  return "nats://" + (v6 ? "[" + impl_->listen_host + "]" : impl_->listen_host) + ":" + std::to_string(impl_->port);
}

void link_proxy::set(const link_toxic& toxic) {
  impl_->run_on_io([p = impl_.get(), toxic] { p->apply(toxic); });
}

void link_proxy::clear() { set(link_toxic{}); }

std::uint64_t link_proxy::connections() const { return impl_->accepted.load(); }
std::uint64_t link_proxy::bytes_forwarded() const { return impl_->forwarded.load(); }
std::uint64_t link_proxy::queued_bytes() const { return impl_->queued.load(); }

namespace {

/// A param's value as an integer in [low, high], the whole string and nothing else ("12ms", " 1", "+1" refused).
outcome<int> parse_int(const std::map<std::string, std::string>& params, const std::string& name, long long low,
                       long long high, std::optional<int> fallback) {
  const auto it = params.find(name);
  if (it == params.end()) {
    if (fallback) return *fallback;
    return error{error_code::bad_request, "params." + name + ": required (an integer in " + std::to_string(low) +
                                              ".." + std::to_string(high) + ")"};
  }
  const std::string& text = it->second;
  long long value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || value < low || value > high)
    return error{error_code::bad_request, "params." + name + ": must be an integer in " + std::to_string(low) + ".." +
                                              std::to_string(high) + ", not '" + text + "'"};
  return static_cast<int>(value);
}

}  // namespace

outcome<link_toxic> parse_link_toxic(const std::string& kind, const std::map<std::string, std::string>& params) {
  static const std::map<std::string, std::pair<link_toxic::kind, std::set<std::string>>> kinds = {
      {"latency", {link_toxic::kind::latency, {"ms", "jitter_ms"}}},
      {"bandwidth", {link_toxic::kind::bandwidth, {"kbps"}}},
      {"blackhole", {link_toxic::kind::blackhole, {}}},
      {"reset", {link_toxic::kind::reset, {}}},
      {"slice", {link_toxic::kind::slice, {"bytes", "delay_us"}}},
  };
  const auto k = kinds.find(kind);
  if (k == kinds.end())
    return error{error_code::bad_request,
                 "kind: '" + kind + "' is not a link fault (latency, bandwidth, blackhole, reset, slice)"};
  const auto& [what, known] = k->second;
  for (const auto& [name, value] : params)
    if (!known.count(name)) {
      std::string list;
      for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
      return error{error_code::bad_request, "params." + name + ": not a param of a " + kind + " fault (" +
                                                (list.empty() ? "it takes none" : "it takes " + list) + ")"};
    }
  link_toxic t;
  t.what = what;
  switch (what) {
    case link_toxic::kind::latency: {
      auto ms = parse_int(params, "ms", 0, 60000, std::nullopt);
      if (!ms) return ms.err();
      auto jitter = parse_int(params, "jitter_ms", 0, *ms, 0);
      if (!jitter) return jitter.err();
      t.latency_ms = *ms;
      t.jitter_ms = *jitter;
      break;
    }
    case link_toxic::kind::bandwidth: {
      auto kbps = parse_int(params, "kbps", 1, 10'000'000, std::nullopt);
      if (!kbps) return kbps.err();
      t.rate_kbps = *kbps;
      break;
    }
    case link_toxic::kind::slice: {
      auto bytes = parse_int(params, "bytes", 1, 65536, std::nullopt);
      if (!bytes) return bytes.err();
      auto delay = parse_int(params, "delay_us", 0, 1'000'000, 0);
      if (!delay) return delay.err();
      t.slice_bytes = *bytes;
      t.slice_delay_us = *delay;
      break;
    }
    default:
      break;
  }
  return t;
}

}  // namespace infermesh::sim
