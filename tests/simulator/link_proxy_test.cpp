// The link proxy of `infermesh simulate` (simulator/link_proxy.cpp) between a real NATS client and a real
// nats-server: each toxic does to the link what it says, and clear gives the link back. Only the client's link
// goes through the proxy; the responder talks to the server directly, so a fault is on one link only.
// Timing bounds are lower bounds with generous slack above: this runs on small shared machines.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <boost/asio.hpp>
#include <chrono>
#include <condition_variable>
#include <future>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/nats_transport.hpp"
#include "simulator/link_proxy.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

/// A client that notices a lost link and comes back quickly, so fault tests take seconds, not minutes.
nats_options through(const sim::link_proxy& proxy) {
  nats_options o;
  o.servers = {proxy.url()};
  o.log_events = false;
  o.max_reconnect = -1;  // a reset link refuses every attempt until clear: the client must not give up meanwhile
  o.reconnect_wait = 100ms;
  o.connect_timeout = 1000ms;
  // Slow enough that 2 x 150 ms of latency is not mistaken for a dead server, fast enough for a blackhole.
  o.ping_interval = 1000ms;
  o.max_pings_out = 2;
  o.ignore_discovered_servers = true;  // the proxy is the way to the server, not the address it announces
  return o;
}

/// Counts messages handed over by nats.c delivery threads, and lets the test wait for a count.
class received {
 public:
  void add(std::string payload) {
    std::lock_guard<std::mutex> guard(mutex_);
    payloads_.push_back(std::move(payload));
    changed_.notify_all();
  }
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return payloads_.size() >= count; });
  }
  std::vector<std::string> payloads() {
    std::lock_guard<std::mutex> guard(mutex_);
    return payloads_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> payloads_;
};

/// A nats-server, a proxy in front of it, an echo responder on the server and a client through the proxy;
/// everything is stopped when the case ends (the client before the proxy before the server).
struct proxied_link {
  test::nats_server server;
  received collected;  // what was published to "collect"; outlives the responder that fills it
  std::unique_ptr<sim::link_proxy> proxy;
  std::unique_ptr<nats_transport> responder;
  std::unique_ptr<nats_transport> client;

  proxied_link() {
    auto p = sim::link_proxy::start("127.0.0.1", "127.0.0.1", server.port());
    BOOST_REQUIRE_MESSAGE(p, (p ? "" : p.err().message));
    proxy = std::move(*p);
    nats_options direct;
    direct.servers = {server.url()};
    direct.log_events = false;
    auto r = nats_transport::connect(direct);
    BOOST_REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
    responder = std::move(*r);
    nats_transport* raw = responder.get();
    BOOST_REQUIRE(raw->subscribe("echo", "", [raw](incoming_message&& m) { raw->publish(m.reply, m.payload.view()); }));
    BOOST_REQUIRE(
        raw->subscribe("collect", "", [this](incoming_message&& m) { collected.add(std::string(m.payload.view())); }));
    BOOST_REQUIRE(!raw->flush(5s));
    auto c = nats_transport::connect(through(*proxy));
    BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
    client = std::move(*c);
  }
  ~proxied_link() {
    client.reset();
    proxy.reset();
    responder.reset();
  }

  /// One request-reply through the proxy; its error message when it failed.
  std::string echo(const std::string& payload, std::chrono::milliseconds timeout = 5s) {
    auto reply = client->request("echo", payload, timeout);
    if (!reply) return "failed: " + reply.err().message;
    return std::string(reply->view());
  }
};

/// Polls `condition` (a state another thread changes, e.g. nats.c's connection status) until true or `timeout`.
template <class F>
bool eventually(F condition, std::chrono::milliseconds timeout) {
  const auto until = steady::now() + timeout;
  while (!condition()) {
    if (steady::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::chrono::milliseconds since(steady::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - start);
}

/// Bytes whose every position is checkable: a reordered, lost or doubled piece shows.
std::string pattern(std::size_t size) {
  std::string s(size, '\0');
  for (std::size_t i = 0; i < size; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

sim::link_toxic toxic(sim::link_toxic::kind what) {
  sim::link_toxic t;
  t.what = what;
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(link_proxy)

BOOST_AUTO_TEST_CASE(a_client_request_replies_through_a_clean_proxy) {
  proxied_link link;
  BOOST_TEST(link.echo("hello") == "hello");
  BOOST_TEST(link.proxy->connections() == 1u);
  BOOST_TEST(link.proxy->bytes_forwarded() > 0u);
  BOOST_TEST(link.proxy->url() == "nats://127.0.0.1:" + std::to_string(link.proxy->port()));
}

BOOST_AUTO_TEST_CASE(latency_adds_at_least_its_delay_each_way_to_a_round_trip) {
  proxied_link link;
  BOOST_TEST(link.echo("warm") == "warm");  // the client's reply subscription is set up by its first request
  constexpr int latency_ms = 300;           // far above loopback's round trip, below the ping interval
  auto t = toxic(sim::link_toxic::kind::latency);
  t.latency_ms = latency_ms;
  link.proxy->set(t);
  const auto start = steady::now();
  BOOST_TEST(link.echo("slow") == "slow");
  const auto took = since(start);
  BOOST_TEST(took.count() >= 2 * latency_ms, took.count() << " ms");  // request and reply each held once
  link.proxy->clear();
  const auto again = steady::now();
  BOOST_TEST(link.echo("fast") == "fast");
  // Only a loose bound: a loopback round trip is well under a millisecond, this allows a loaded machine 600.
  BOOST_TEST(since(again).count() < 2 * latency_ms, since(again).count() << " ms");
}

BOOST_AUTO_TEST_CASE(clear_releases_what_latency_still_holds) {
  proxied_link link;
  BOOST_TEST(link.echo("warm") == "warm");
  constexpr int latency_ms = 3000;  // long enough that a reply within it can only come from the release
  auto t = toxic(sim::link_toxic::kind::latency);
  t.latency_ms = latency_ms;
  link.proxy->set(t);
  const auto start = steady::now();
  auto reply = std::async(std::launch::async, [&] { return link.echo("held", 10s); });
  std::this_thread::sleep_for(200ms);  // the request is in the proxy's queue by then
  link.proxy->clear();
  BOOST_TEST(reply.get() == "held");
  BOOST_TEST(since(start).count() < latency_ms, since(start).count() << " ms");
}

BOOST_AUTO_TEST_CASE(jittered_latency_keeps_every_message_in_order) {
  proxied_link link;
  // Jitter as large as the latency: were chunks released in draw order, the byte stream (and NATS framing)
  // would be scrambled.
  auto t = toxic(sim::link_toxic::kind::latency);
  t.latency_ms = 5;
  t.jitter_ms = 5;
  t.seed = 42;
  link.proxy->set(t);
  constexpr int messages = 300;
  for (int i = 0; i < messages; ++i) BOOST_REQUIRE(!link.client->publish("collect", "message " + std::to_string(i)));
  BOOST_REQUIRE(link.collected.wait_for(messages, 10s));
  const auto got = link.collected.payloads();
  for (int i = 0; i < messages; ++i) BOOST_TEST(got[static_cast<std::size_t>(i)] == "message " + std::to_string(i));
}

BOOST_AUTO_TEST_CASE(bandwidth_paces_a_large_publish_to_its_rate) {
  proxied_link link;
  constexpr int rate_kbps = 200;                 // kilobytes a second
  constexpr std::size_t payload_bytes = 400'000;  // 2 s at that rate: long enough to measure, short for a test
  constexpr auto at_least = 1500ms;               // 2 s less the one step of burst the pacing allows, with margin
  auto t = toxic(sim::link_toxic::kind::bandwidth);
  t.rate_kbps = rate_kbps;
  link.proxy->set(t);
  const auto payload = pattern(payload_bytes);
  const auto start = steady::now();
  BOOST_REQUIRE(!link.client->publish("collect", payload));
  BOOST_REQUIRE(!link.client->flush(15s));  // the server's PONG follows the whole publish up the paced link
  const auto took = since(start);
  BOOST_TEST(took.count() >= at_least.count(), took.count() << " ms");
  BOOST_REQUIRE(link.collected.wait_for(1, 5s));
  BOOST_TEST((link.collected.payloads()[0] == payload));
}

BOOST_AUTO_TEST_CASE(blackhole_times_a_request_out_and_clear_lets_the_next_one_through) {
  proxied_link link;
  BOOST_TEST(link.echo("before") == "before");
  link.proxy->set(toxic(sim::link_toxic::kind::blackhole));
  auto lost = link.client->request("echo", "into the hole", 500ms);
  BOOST_REQUIRE(!lost);
  BOOST_TEST((lost.err().code == error_code::deadline_exceeded), lost.err().message);
  link.proxy->clear();
  // On the same connection, or on the next one if the client took the silence for a dead server meanwhile.
  BOOST_TEST(eventually([&] { return link.echo("after", 1s) == "after"; }, 10s));
}

BOOST_AUTO_TEST_CASE(reset_drops_the_connection_until_clear_lets_the_client_reconnect) {
  proxied_link link;
  BOOST_TEST(link.echo("before") == "before");
  const auto accepted = link.proxy->connections();
  link.proxy->set(toxic(sim::link_toxic::kind::reset));
  BOOST_TEST(eventually([&] { return !link.client->connected(); }, 5s));
  // The client's attempts to come back are accepted and reset at once.
  BOOST_TEST(eventually([&] { return link.proxy->connections() >= accepted + 2; }, 5s));
  BOOST_TEST(!link.client->connected());
  // Not asserted 0 meanwhile: nats.c counts a reconnect once the TCP connect succeeds, before the reset.
  link.proxy->clear();
  BOOST_TEST(eventually([&] { return link.client->connected() && link.client->reconnects() >= 1; }, 10s));
  BOOST_TEST(link.echo("after") == "after");
}

BOOST_AUTO_TEST_CASE(slice_still_delivers_messages_intact) {
  proxied_link link;
  BOOST_TEST(link.echo("warm") == "warm");
  constexpr int slice_bytes = 97;          // prime: the pieces never line up with NATS's own framing
  constexpr int slice_delay_us = 1000;
  constexpr std::size_t payload_bytes = 10'000;
  auto t = toxic(sim::link_toxic::kind::slice);
  t.slice_bytes = slice_bytes;
  t.slice_delay_us = slice_delay_us;
  link.proxy->set(t);
  const auto payload = pattern(payload_bytes);
  const auto start = steady::now();
  BOOST_TEST((link.echo(payload) == payload));  // sliced both ways: the request and its reply
  // Over 100 pieces each way, 1 ms apart: proof that the link was really cut up.
  const auto pieces_each_way = static_cast<int>(payload_bytes / slice_bytes);
  BOOST_TEST(since(start).count() >= 2 * pieces_each_way * slice_delay_us / 1000, since(start).count() << " ms");
  BOOST_TEST(link.echo("short") == "short");
}

BOOST_AUTO_TEST_CASE(a_delayed_direction_stops_reading_beyond_its_queue_limit) {
  // A raw TCP sender that writes as fast as it can, a raw sink behind the proxy: with the link delayed, what the
  // proxy holds stays near its limit and the sender is held back instead.
  namespace asio = boost::asio;
  using tcp = asio::ip::tcp;
  constexpr std::uint64_t queue_limit = 4 * 1024 * 1024;  // link_proxy.cpp's max_queued_bytes
  constexpr std::uint64_t one_read = 64 * 1024;           // what one read may add past it
  asio::io_context io;
  tcp::acceptor sink_acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  auto started = sim::link_proxy::start("127.0.0.1", "127.0.0.1", sink_acceptor.local_endpoint().port());
  BOOST_REQUIRE(started);
  auto& proxy = **started;
  auto t = toxic(sim::link_toxic::kind::latency);
  t.latency_ms = 300;
  proxy.set(t);

  tcp::socket sink(io);
  auto sunk = std::async(std::launch::async, [&] {
    sink_acceptor.accept(sink);
    std::uint64_t total = 0;
    bool intact = true;
    std::vector<char> buffer(64 * 1024);
    boost::system::error_code ec;
    while (true) {
      const auto n = sink.read_some(asio::buffer(buffer), ec);
      for (std::size_t i = 0; i < n; ++i) intact = intact && buffer[i] == static_cast<char>((total + i) % 251);
      total += n;
      if (ec) break;
    }
    return std::make_pair(total, intact);
  });

  tcp::socket sender(io);
  sender.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(proxy.port())));
  sender.non_blocking(true);
  std::vector<char> block(64 * 1024);
  std::uint64_t sent = 0, peak = 0;
  const auto start = steady::now();
  while (steady::now() - start < 1500ms) {
    for (std::size_t i = 0; i < block.size(); ++i) block[i] = static_cast<char>((sent + i) % 251);
    boost::system::error_code ec;
    const auto n = sender.write_some(asio::buffer(block), ec);
    if (ec == asio::error::would_block) std::this_thread::sleep_for(1ms);
    else BOOST_REQUIRE_MESSAGE(!ec, ec.message());
    sent += n;
    peak = std::max(peak, proxy.queued_bytes());
  }
  sender.non_blocking(false);
  sender.shutdown(tcp::socket::shutdown_send);  // the proxy passes the end on once it wrote what it holds
  BOOST_REQUIRE(sunk.wait_for(20s) == std::future_status::ready);
  const auto [total, intact] = sunk.get();
  BOOST_TEST(peak <= queue_limit + one_read, peak);
  BOOST_TEST(peak >= queue_limit / 2, peak);  // the backlog really built up: the limit, not the sender, held it
  BOOST_TEST(total == sent);
  BOOST_TEST(intact);
}

BOOST_AUTO_TEST_CASE(destroying_the_proxy_closes_its_connections) {
  proxied_link link;
  BOOST_TEST(link.echo("before") == "before");
  link.proxy.reset();
  BOOST_TEST(eventually([&] { return !link.client->connected(); }, 5s));
}

BOOST_AUTO_TEST_CASE(parse_link_toxic_reads_each_kind_with_its_defaults) {
  auto latency = sim::parse_link_toxic("latency", {{"ms", "200"}});
  BOOST_REQUIRE(latency);
  BOOST_TEST((latency->what == sim::link_toxic::kind::latency));
  BOOST_TEST(latency->latency_ms == 200);
  BOOST_TEST(latency->jitter_ms == 0);
  auto jittered = sim::parse_link_toxic("latency", {{"ms", "200"}, {"jitter_ms", "200"}});
  BOOST_REQUIRE(jittered);
  BOOST_TEST(jittered->jitter_ms == 200);
  auto bandwidth = sim::parse_link_toxic("bandwidth", {{"kbps", "10000000"}});
  BOOST_REQUIRE(bandwidth);
  BOOST_TEST(bandwidth->rate_kbps == 10'000'000);
  BOOST_TEST((sim::parse_link_toxic("blackhole", {})->what == sim::link_toxic::kind::blackhole));
  BOOST_TEST((sim::parse_link_toxic("reset", {})->what == sim::link_toxic::kind::reset));
  auto slice = sim::parse_link_toxic("slice", {{"bytes", "1"}});
  BOOST_REQUIRE(slice);
  BOOST_TEST(slice->slice_bytes == 1);
  BOOST_TEST(slice->slice_delay_us == 0);
}

BOOST_AUTO_TEST_CASE(parse_link_toxic_names_the_bad_param) {
  const struct {
    std::string kind;
    std::map<std::string, std::string> params;
    std::string named;
  } refused[] = {
      {"latency", {}, "params.ms"},                                   // required
      {"latency", {{"ms", "60001"}}, "params.ms"},                    // over the range
      {"latency", {{"ms", "12ms"}}, "params.ms"},                     // not only digits
      {"latency", {{"ms", " 12"}}, "params.ms"},
      {"latency", {{"ms", "+12"}}, "params.ms"},
      {"latency", {{"ms", ""}}, "params.ms"},
      {"latency", {{"ms", "-1"}}, "params.ms"},
      {"latency", {{"ms", "99999999999999999999"}}, "params.ms"},     // out of any integer's range
      {"latency", {{"ms", "100"}, {"jitter_ms", "101"}}, "params.jitter_ms"},  // more than the latency itself
      {"latency", {{"ms", "100"}, {"jiter_ms", "1"}}, "params.jiter_ms"},      // unknown (a typo)
      {"bandwidth", {}, "params.kbps"},
      {"bandwidth", {{"kbps", "0"}}, "params.kbps"},
      {"bandwidth", {{"kbps", "10000001"}}, "params.kbps"},
      {"blackhole", {{"ms", "1"}}, "params.ms"},                      // takes no params
      {"reset", {{"now", "1"}}, "params.now"},
      {"slice", {{"bytes", "0"}}, "params.bytes"},
      {"slice", {{"bytes", "65537"}}, "params.bytes"},
      {"slice", {{"bytes", "10"}, {"delay_us", "1000001"}}, "params.delay_us"},
      {"jitter", {}, "kind"},                                          // not a link fault
  };
  for (const auto& r : refused) {
    auto parsed = sim::parse_link_toxic(r.kind, r.params);
    BOOST_REQUIRE_MESSAGE(!parsed, r.kind << " should be refused naming " << r.named);
    BOOST_TEST((parsed.err().code == error_code::bad_request));
    BOOST_TEST(parsed.err().message.rfind(r.named + ":", 0) == 0u, parsed.err().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
