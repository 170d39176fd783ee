// Durable delivery (protocol.md, "Durable requests"): clients put requests on the JetStream work queue with
// Nats-Msg-Id and reply_to; nodes pull, reply, then ack. A node killed with SIGKILL mid-load has its
// unacknowledged requests redelivered to the other node after the ack wait: nothing is lost, and the client
// keeps one reply per id.
#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <csignal>
#include <algorithm>
#include <map>

#include "messages/codec.hpp"
#include "runtime/request_client.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

constexpr int ack_wait_ms = 2000;

std::string durable_config(int ack_wait, int max_deliver = 5, int latency_us = 5000) {
  return test::synthetic_config(latency_us, "max_batch_size: 8", "", {"", "", "delivery: {classify: durable}\n"
                                "jetstream: {ack_wait_ms: " + std::to_string(ack_wait) + ", max_deliver: " +
                                std::to_string(max_deliver) + "}\n"});
}

request grey(const std::string& id, const std::string& reply_to) {
  std::vector<std::uint8_t> png;
  cv::imencode(".png", cv::Mat(40, 40, CV_8UC3, cv::Scalar(128, 128, 128)), png);
  request r;
  r.id = id;
  r.image = shared_bytes::from_vector(std::move(png));
  r.reply_to = reply_to;
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(durable_delivery)

BOOST_AUTO_TEST_CASE(the_cli_path_answers_a_durable_request_once) {
  test::nats_server nats(true);
  test::node_process node(durable_config(ack_wait_ms), nats.url(), "d1");
  test::client client(nats.url());
  auto rep = send_durable(client.transport(), "classify", grey("one", ""), encoding::msgpack, 20s);
  BOOST_TEST(rep.ok, test::message_of(rep));
  BOOST_TEST(rep.id == "one");
}

BOOST_AUTO_TEST_CASE(a_node_killed_mid_load_loses_nothing_and_the_client_keeps_one_reply_per_id) {
  test::nats_server nats(true);
  test::node_process a(durable_config(ack_wait_ms), nats.url(), "a");
  test::node_process b(durable_config(ack_wait_ms), nats.url(), "b");
  test::client client(nats.url());
  const std::string inbox = "test.durable.replies";
  test::reply_collector collector(client.transport(), inbox);

  constexpr int n = 800;  // published as fast as the stream acknowledges them (well above 200 per second)
  std::map<std::string, std::chrono::steady_clock::time_point> sent_at;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const auto id = "d" + std::to_string(i);
    sent_at[id] = std::chrono::steady_clock::now();
    BOOST_REQUIRE(!client.transport().publish_durable("infermesh.v1.jobs.classify",
                                                      encode_request(grey(id, inbox), encoding::msgpack), id, 5s));
    if (i == n / 4) BOOST_REQUIRE(collector.wait_for(n / 8, 30s));  // node a is working on its share...
    if (i == n / 4) a.process().signal(SIGKILL);                     // ...when it dies
  }
  const double publish_rate = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  BOOST_TEST(collector.wait_for(n, std::chrono::milliseconds(ack_wait_ms) + 30s));
  std::map<std::string, int> seen;
  std::size_t ok = 0, raw_duplicates = 0;
  std::vector<double> latencies;
  const auto replies = collector.replies();
  const auto arrivals = collector.arrival_times();
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (++seen[replies[i].id] > 1) {  // what the client library drops: it keeps the first reply of an id
      ++raw_duplicates;
      continue;
    }
    if (replies[i].ok) ++ok;
    if (sent_at.count(replies[i].id))
      latencies.push_back(std::chrono::duration<double, std::milli>(arrivals[i] - sent_at[replies[i].id]).count());
  }
  const std::size_t lost = n - std::min<std::size_t>(n, seen.size());
  std::sort(latencies.begin(), latencies.end());
  const double p99_ms = latencies.empty() ? 0 : latencies[latencies.size() * 99 / 100];
  const double slowest_ms = latencies.empty() ? 0 : latencies.back();
  BOOST_TEST_MESSAGE("node kill -9 under load (" << static_cast<int>(publish_rate) << " requests/s), durable mode: sent " << n << " / answered " << seen.size()
                     << " (ok " << ok << ") / lost " << lost << " / duplicated 0 delivered (" << raw_duplicates
                     << " redelivered replies dropped by the client) / p99 " << static_cast<int>(p99_ms)
                     << " ms / slowest " << static_cast<int>(slowest_ms)
                     << " ms (ack wait " << ack_wait_ms << " ms)");
  BOOST_TEST(lost == 0u);
  BOOST_TEST(ok == static_cast<std::size_t>(n));
  BOOST_TEST(slowest_ms < ack_wait_ms + 1000 + 1000, "recovered within the ack wait + 1 s (+1 s of slack)");
}

BOOST_AUTO_TEST_CASE(a_request_past_max_deliver_is_answered_internal_and_removed) {
  test::nats_server nats(true);
  // A model slower than the ack wait: the request is redelivered while the node still works on it.
  test::node_process node(durable_config(300, 2, 3'000'000), nats.url(), "slow");
  test::client client(nats.url());
  const std::string inbox = "test.durable.rot";
  test::reply_collector collector(client.transport(), inbox);
  BOOST_REQUIRE(!client.transport().publish_durable("infermesh.v1.jobs.classify",
                                                    encode_request(grey("stuck", inbox), encoding::msgpack), "stuck", 5s));
  BOOST_REQUIRE(collector.wait_for(1, 10s));
  const auto first = collector.replies().front();
  BOOST_TEST(test::code_of(first) == "internal", test::message_of(first));
  BOOST_TEST(test::message_of(first).find("max_deliver") != std::string::npos);
  BOOST_REQUIRE(node.terminate(30s).value_or(-1) == 0);  // waits for the slow computation too
  // Removed from the stream: a fresh node on the same queue finds nothing to do.
  test::node_process again(durable_config(ack_wait_ms), nats.url(), "again");
  collector.wait_for(100, 3s);  // (nothing should come: give a redelivery time to show up)
  for (const auto& rep : collector.replies()) BOOST_TEST(rep.node != "again", "the removed request came back");
}

BOOST_AUTO_TEST_SUITE_END()
