// Durable delivery (protocol.md, "Durable requests"): clients put requests on the JetStream work queue with
// Nats-Msg-Id and reply_to; nodes pull, reply, then ack. A node killed with SIGKILL mid-load has its
// unacknowledged requests redelivered to the other node after the ack wait: nothing is lost, and the client
// keeps one reply per id. With the stream and its consumer replicated on a three-server cluster, the NATS server
// a node is connected to can die too: the node reconnects, the survivors elect new leaders, nothing is lost.
#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "messages/codec.hpp"
#include "messages/subjects.hpp"
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

/// What a durable load run saw: one reply kept per id, as the client library keeps it.
struct load_result {
  std::size_t sent = 0, answered = 0, ok = 0, lost = 0, raw_duplicates = 0;
  double publish_rate = 0, p99_ms = 0, slowest_ms = 0;

  std::string summary() const {
    std::ostringstream out;
    out << "sent " << sent << " / answered " << answered << " (ok " << ok << ") / lost " << lost
        << " / duplicated 0 delivered (" << raw_duplicates << " redelivered replies dropped by the client) / p99 "
        << static_cast<int>(p99_ms) << " ms / slowest " << static_cast<int>(slowest_ms) << " ms";
    return out.str();
  }
};

/// Publishes `n` durable classify requests (replies to `inbox`); after a quarter of them, once an eighth are
/// answered, calls `fault`; then waits up to `patience` past the ack wait for every id to be answered.
load_result run_durable_load(nats_transport& client, const std::string& inbox, int n,
                             std::chrono::milliseconds patience, const std::function<void()>& fault) {
  test::reply_collector collector(client, inbox);
  std::map<std::string, std::chrono::steady_clock::time_point> sent_at;
  const auto started = std::chrono::steady_clock::now();
  for (int i = 0; i < n; ++i) {
    const auto id = "d" + std::to_string(i);
    sent_at[id] = std::chrono::steady_clock::now();
    auto refused = client.publish_durable(wire::durable_subject("classify"), encode_request(grey(id, inbox), encoding::msgpack),
                                          id, 30s);
    BOOST_REQUIRE_MESSAGE(!refused, id << ": " << (refused ? refused->message : ""));
    if (i == n / 4) {
      BOOST_REQUIRE(collector.wait_for_ids(n / 8, 30s));
      fault();
    }
  }
  load_result r;
  r.sent = static_cast<std::size_t>(n);
  r.publish_rate = n / std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  BOOST_TEST(collector.wait_for_ids(r.sent, std::chrono::milliseconds(ack_wait_ms) + patience));
  std::map<std::string, int> seen;
  std::vector<double> latencies;
  const auto replies = collector.replies();
  const auto arrivals = collector.arrival_times();
  for (std::size_t i = 0; i < replies.size(); ++i) {
    if (++seen[replies[i].id] > 1) {  // what the client library drops: it keeps the first reply of an id
      ++r.raw_duplicates;
      continue;
    }
    if (replies[i].ok) ++r.ok;
    if (sent_at.count(replies[i].id))
      latencies.push_back(std::chrono::duration<double, std::milli>(arrivals[i] - sent_at[replies[i].id]).count());
  }
  r.answered = seen.size();
  r.lost = r.sent - std::min(r.sent, r.answered);
  std::sort(latencies.begin(), latencies.end());
  r.p99_ms = latencies.empty() ? 0 : latencies[latencies.size() * 99 / 100];
  r.slowest_ms = latencies.empty() ? 0 : latencies.back();
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
  // Published as fast as the stream acknowledges them (well above 200 per second); node a is working on its
  // share when it dies.
  const auto r = run_durable_load(client.transport(), "test.durable.replies", 800, 30s, [&] { a.process().signal(SIGKILL); });
  BOOST_TEST_MESSAGE("node kill -9 under load (" << static_cast<int>(r.publish_rate) << " requests/s), durable mode: "
                     << r.summary() << " (ack wait " << ack_wait_ms << " ms)");
  BOOST_TEST(r.lost == 0u);
  BOOST_TEST(r.ok == r.sent);
  BOOST_TEST(r.slowest_ms < ack_wait_ms + 1000 + 1000, "recovered within the ack wait + 1 s (+1 s of slack)");
}

BOOST_AUTO_TEST_CASE(a_request_past_max_deliver_is_answered_internal_and_removed) {
  test::nats_server nats(true);
  // A model slower than the ack wait: the request is redelivered while the node still works on it.
  test::node_process node(durable_config(300, 2, 3'000'000), nats.url(), "slow");
  test::client client(nats.url());
  const std::string inbox = "test.durable.rot";
  test::reply_collector collector(client.transport(), inbox);
  BOOST_REQUIRE(!client.transport().publish_durable(wire::durable_subject("classify"),
                                                    encode_request(grey("stuck", inbox), encoding::msgpack), "stuck", 5s));
  BOOST_REQUIRE(collector.wait_for(1, 10s));
  const auto first = collector.replies().front();
  BOOST_TEST(test::code_of(first) == "internal", test::message_of(first));
  BOOST_TEST(test::message_of(first).find("max_deliver") != std::string::npos);
  const auto stopped = node.stop_problem(30s);  // waits for the slow computation too
  BOOST_REQUIRE_MESSAGE(stopped.empty(), stopped);
  // Removed from the stream: a fresh node on the same queue finds nothing to do.
  test::node_process again(durable_config(ack_wait_ms), nats.url(), "again");
  collector.wait_for(100, 3s);  // (nothing should come: give a redelivery time to show up)
  for (const auto& rep : collector.replies()) BOOST_TEST(rep.node != "again", "the removed request came back");
}

BOOST_AUTO_TEST_CASE(the_nats_server_a_node_is_connected_to_killed_under_durable_load_loses_no_request) {
  test::nats_cluster cluster(true);
  std::string config = durable_config(ack_wait_ms);
  config.replace(config.find("jetstream: {"), 12, "jetstream: {replicas: 3, ");  // the stream on all three servers
  test::node_process a(config, cluster.url_list_from(0), "a");
  test::node_process b(config, cluster.url_list_from(1), "b");
  int victim = -1;  // the server node a is connected to (nats.c may pick any of its list)
  for (int i = 0; i < test::nats_cluster::size; ++i)
    if (a.process().output().find("via " + cluster.url(i)) != std::string::npos) victim = i;
  BOOST_REQUIRE(victim >= 0);
  std::vector<std::string> others;  // the client stays up: its own server's loss is the gap README documents
  for (int i = 0; i < test::nats_cluster::size; ++i)
    if (i != victim) others.push_back(cluster.url(i));
  auto client = test::connect_client(others);
  // Publishes ride out the stream's leader election, redeliveries the consumer's (each a few seconds, more on
  // a busy machine): the budget is generous, the report shows what it took.
  const auto r = run_durable_load(*client, "test.durable.cluster.replies", 400, 60s, [&] { cluster.kill(victim); });
  BOOST_TEST_MESSAGE("NATS server of node a killed under load, durable mode (replicas 3): " << r.summary());
  BOOST_TEST(r.lost == 0u);
  BOOST_TEST(r.ok == r.sent);
}

BOOST_AUTO_TEST_CASE(a_durable_client_whose_own_nats_server_dies_under_load_gets_every_answer) {
  test::nats_cluster cluster(true);
  auto client = test::connect_client(cluster.urls_from(0));
  const std::string own = client->connected_server();  // the server to kill (nats.c may pick any of its list)
  std::string others;  // the nodes stay away from it: this is the client's loss alone
  for (int i = 0; i < test::nats_cluster::size; ++i)
    if (cluster.url(i) != own) others += (others.empty() ? "" : ",") + cluster.url(i);
  std::string config = durable_config(ack_wait_ms);
  config.replace(config.find("jetstream: {"), 12, "jetstream: {replicas: 3, ");
  test::node_process a(config, others, "a");
  test::node_process b(config, others, "b");
  // 32 closed-loop clients of the library's durable path on one connection, as an application would run them:
  // the nodes hold requests they pulled, and publish replies at the client's inbox every few milliseconds.
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> answered{0};
  test::progress progress;
  std::mutex mutex;
  std::vector<double> latencies;
  std::map<std::string, std::string> failed;  // id -> code: message
  std::vector<std::thread> clients;
  for (int c = 0; c < 32; ++c)
    clients.emplace_back([&, c] {
      for (int i = 0; !stop; ++i) {
        const auto id = "own" + std::to_string(c) + "-" + std::to_string(i);
        const auto started = std::chrono::steady_clock::now();
        const auto rep = send_durable(*client, "classify", grey(id, ""), encoding::msgpack, 60s);
        std::lock_guard<std::mutex> guard(mutex);
        latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count());
        if (!rep.ok || rep.id != id) failed[id] = test::code_of(rep) + ": " + test::message_of(rep) + " (id " + rep.id + ")";
        progress.set(++answered);
      }
    });
  BOOST_REQUIRE(progress.wait_for(100, 60s));
  for (int i = 0; i < test::nats_cluster::size; ++i)
    if (cluster.url(i) == own) cluster.kill(i);
  const auto at_kill = answered.load();
  BOOST_TEST(progress.wait_for(at_kill + 200, 120s), "the clients carry on through their server's death");
  stop = true;
  for (auto& t : clients) t.join();
  std::sort(latencies.begin(), latencies.end());
  BOOST_TEST_MESSAGE("a durable client's own NATS server killed under load (replicas 3): sent "
                     << latencies.size() << " / answered " << latencies.size() - failed.size() << " / lost "
                     << failed.size() << " / duplicated 0 delivered (the library keeps one reply per id) / p99 "
                     << static_cast<int>(latencies[latencies.size() * 99 / 100]) << " ms / slowest "
                     << static_cast<int>(latencies.back()) << " ms");
  BOOST_TEST(failed.empty());
  for (const auto& [id, why] : failed) BOOST_TEST_MESSAGE(id << ": " << why);
}

BOOST_AUTO_TEST_SUITE_END()
