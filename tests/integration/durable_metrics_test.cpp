// A node's /metrics for what only a real JetStream work queue shows: a durable request redelivered while the
// node still works on it is counted as a redelivery, and counted as pending (held, unacknowledged) until the
// node answers and acknowledges it.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "messages/codec.hpp"
#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// The value of the sample `series` in the node's /metrics now; -1 when absent or not answered.
double scraped(int port, const std::string& series) {
  const auto r = test::http_get(port, "/metrics");
  if (!r) return -1;
  const auto at = r->body.find("\n" + series + " ");
  return at == std::string::npos ? -1 : std::stod(r->body.substr(at + series.size() + 2));
}

/// Polls `series` until it equals `value` (every 100 ms, at most `timeout`); the last value seen.
double wait_for_sample(int port, const std::string& series, double value, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const double v = scraped(port, series);
    if (v == value || std::chrono::steady_clock::now() >= until) return v;
    std::this_thread::sleep_for(100ms);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(durable_metrics)

BOOST_AUTO_TEST_CASE(a_durable_request_redelivered_while_computed_counts_its_redeliveries_and_is_pending_until_acked) {
  // The model takes 3 s, the ack wait is 300 ms and max_deliver 2: delivery 2 comes while the first computes
  // (a repeat of an id in flight: it waits for the first's answer), delivery 3 is past max_deliver (answered
  // `internal` and acknowledged, removed from the stream). So exactly two redeliveries.
  constexpr int ack_wait_ms = 300, max_deliver = 2, model_latency_us = 3'000'000;
  constexpr int redeliveries = 2;
  test::nats_server nats(true);
  const int port = test::free_loopback_port();
  test::node_process node(test::synthetic_config(model_latency_us, "max_batch_size: 8", "",
                                                 {"", "",
                                                  "delivery: {classify: durable}\n"
                                                  "jetstream: {ack_wait_ms: " + std::to_string(ack_wait_ms) +
                                                      ", max_deliver: " + std::to_string(max_deliver) + "}\n"
                                                  "http: {listen: \"127.0.0.1:" + std::to_string(port) + "\"}\n"}),
                          nats.url(), "m-durable");
  BOOST_TEST(scraped(port, R"(infermesh_jetstream_redeliveries_total{op="classify"})") == 0);
  BOOST_TEST(scraped(port, R"(infermesh_jetstream_ack_pending{op="classify"})") == 0);
  test::client client(nats.url());
  const std::string inbox = "test.metrics.durable";
  test::reply_collector collector(client.transport(), inbox);
  auto r = test::grey_request(128, "slow-one");
  r.reply_to = inbox;
  BOOST_REQUIRE(!client.transport().publish_durable(wire::durable_subject("classify"), encode_request(r, encoding::msgpack),
                                                    "slow-one", 5s));
  BOOST_REQUIRE(collector.wait_for(1, 10s));  // delivery 3's `internal` answer, ~0.6 s in
  BOOST_TEST(test::code_of(collector.replies().front()) == "internal");
  BOOST_TEST(wait_for_sample(port, R"(infermesh_jetstream_redeliveries_total{op="classify"})", redeliveries, 10s) ==
             redeliveries);
  // The first delivery still computes (about 2.4 s more): held, not acknowledged.
  BOOST_TEST(scraped(port, R"(infermesh_jetstream_ack_pending{op="classify"})") >= 1);
  BOOST_TEST(wait_for_sample(port, R"(infermesh_jetstream_ack_pending{op="classify"})", 0, 20s) == 0,
             "acknowledged once answered");
  BOOST_TEST(scraped(port, R"(infermesh_jetstream_redeliveries_total{op="classify"})") == redeliveries);
  BOOST_TEST(node.stop_problem(30s) == "");
}

BOOST_AUTO_TEST_SUITE_END()
