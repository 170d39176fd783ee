// Supervision: a model actor that dies is restarted by its batcher with the batch it held re-queued; a poison
// input fails alone; a model past its restart intensity makes its node stop taking the op, and another node
// serves it. Faults are injected through the node's control subject (node.faults: true), as simulations do.
#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <map>
#include <regex>
#include <thread>

#include "messages/codec.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

std::string supervised_config(const std::string& name, const std::string& supervision, const std::string& extra = "") {
  return "node: {name: " + name + ", stats_interval_ms: 0, faults: true}\n"
         "pipelines: {classify: [classify]}\n"
         "models:\n"
         "  - name: synthetic\n"
         "    serves: classify\n"
         "    backend: synthetic\n"
         "    labels: [dark, mid, bright]\n"
         "    input: {width: 32, height: 32}\n"
         "    synthetic: {latency_us: 2000" + extra + "}\n"
         "    batching: {max_batch_size: 8, max_queue_delay_us: 1000, queue_capacity: 512}\n"
         "    supervision: {" + supervision + "}\n";
}

request grey(int level, const std::string& id) {
  std::vector<std::uint8_t> png;
  cv::imencode(".png", cv::Mat(40, 40, CV_8UC3, cv::Scalar(level, level, level)), png);
  request r;
  r.id = id;
  r.image = shared_bytes::from_vector(std::move(png));
  r.deadline_ms = 30000;
  return r;
}

void inject(test::client& client, const std::string& node, const std::string& action, int value = 0) {
  const std::string command = R"({"model": "synthetic", "action": ")" + action + R"(", "value": )" +
                              std::to_string(value) + "}";
  auto answer = client.transport().request("infermesh.v1.control." + node, command, 5s);
  BOOST_REQUIRE(answer);
  BOOST_REQUIRE(answer->view().find("\"ok\":true") != std::string_view::npos);
}

/// What a run of requests cost: the report the issue asks of every fault test.
struct tally {
  std::size_t sent = 0, answered = 0, ok = 0, lost = 0, duplicated = 0;
  double p99_ms = 0;
  std::string line() const {
    return "sent " + std::to_string(sent) + " / answered " + std::to_string(answered) + " (ok " +
           std::to_string(ok) + ") / lost " + std::to_string(lost) + " / duplicated " + std::to_string(duplicated) +
           " / p99 " + std::to_string(static_cast<int>(p99_ms)) + " ms";
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(supervision)

BOOST_AUTO_TEST_CASE(a_model_killed_100_times_under_load_answers_every_request_once) {
  test::nats_server nats;
  test::node_process node(
      supervised_config("s1", "max_restarts: 1000, period_ms: 60000, backoff_ms: 5, max_backoff_ms: 5, max_attempts: 5"),
      nats.url(), "s1");
  test::client client(nats.url());
  const std::string inbox = "test.supervision.replies";
  test::reply_collector collector(client.transport(), inbox);

  std::map<std::string, std::chrono::steady_clock::time_point> sent_at;
  std::atomic<bool> loading{true};
  std::atomic<int> publish_errors{0};
  std::thread load([&] {  // ~400 requests/s while the model dies every 40 ms (no Boost.Test calls off main)
    for (int i = 0; loading; ++i) {
      const auto id = "k" + std::to_string(i);
      sent_at[id] = std::chrono::steady_clock::now();
      if (client.transport().publish("infermesh.v1.classify", encode_request(grey(128, id), encoding::msgpack), inbox))
        ++publish_errors;
      std::this_thread::sleep_for(2500us);
    }
  });
  for (int kill = 0; kill < 100; ++kill) {
    std::this_thread::sleep_for(40ms);
    inject(client, "s1", "crash");
  }
  loading = false;
  load.join();
  BOOST_TEST(publish_errors == 0);

  tally t;
  t.sent = sent_at.size();
  BOOST_TEST(collector.wait_for(t.sent, 60s));
  std::this_thread::sleep_for(200ms);  // a duplicate would arrive now
  std::map<std::string, int> seen;
  std::vector<double> latencies;
  const auto replies = collector.replies();
  const auto arrivals = collector.arrival_times();
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& rep = replies[i];
    if (++seen[rep.id] > 1) ++t.duplicated;
    if (rep.ok) ++t.ok;
    else BOOST_TEST_MESSAGE(rep.id << ": " << test::code_of(rep) << " " << test::message_of(rep));
    if (sent_at.count(rep.id))
      latencies.push_back(std::chrono::duration<double, std::milli>(arrivals[i] - sent_at[rep.id]).count());
  }
  t.answered = seen.size();
  t.lost = t.sent - std::min(t.sent, t.answered);
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) t.p99_ms = latencies[latencies.size() * 99 / 100];
  BOOST_TEST_MESSAGE("model actor killed 100 times under load: " << t.line());
  BOOST_TEST(t.lost == 0u);
  BOOST_TEST(t.duplicated == 0u);
  BOOST_TEST(t.ok >= t.sent * 99 / 100, t.line());

  BOOST_REQUIRE(node.terminate(30s).value_or(-1) == 0);
  static const std::regex stats(R"((\d+) restarts \(longest recovery (\d+) ms\))");
  std::smatch m;
  const auto log = node.process().output();
  BOOST_REQUIRE(std::regex_search(log, m, stats));
  BOOST_TEST(std::stoi(m[1]) == 100);
  BOOST_TEST(std::stoi(m[2]) < 500, "a replacement served within " << m[2] << " ms of its crash");
}

BOOST_AUTO_TEST_CASE(a_poison_input_fails_alone_and_its_batch_mates_succeed) {
  test::nats_server nats;
  test::node_process node(supervised_config("s1", "max_restarts: 5", ", poison_mean_above: 2.0"), nats.url(), "s1");
  test::client client(nats.url());
  const std::string inbox = "test.poison.replies";
  test::reply_collector collector(client.transport(), inbox);
  inject(client, "s1", "slow", 100);  // hold the model so the next requests queue into one batch
  BOOST_REQUIRE(!client.transport().publish("infermesh.v1.classify", encode_request(grey(128, "warm"), encoding::msgpack), inbox));
  std::this_thread::sleep_for(20ms);
  for (int i = 0; i < 7; ++i)
    BOOST_REQUIRE(!client.transport().publish("infermesh.v1.classify",
                                              encode_request(grey(100, "ok" + std::to_string(i)), encoding::msgpack), inbox));
  BOOST_REQUIRE(!client.transport().publish("infermesh.v1.classify", encode_request(grey(255, "poison"), encoding::msgpack), inbox));
  BOOST_REQUIRE(collector.wait_for(9, 30s));
  for (const auto& rep : collector.replies()) {
    if (rep.id == "poison") BOOST_TEST(test::code_of(rep) == "internal", test::message_of(rep));
    else BOOST_TEST(rep.ok, rep.id << ": " << test::message_of(rep));
  }
}

BOOST_AUTO_TEST_CASE(past_its_restart_intensity_a_node_stops_taking_the_op_and_another_node_serves_it) {
  test::nats_server nats;
  test::node_process weak(supervised_config("weak", "max_restarts: 2, period_ms: 60000, backoff_ms: 5"), nats.url(),
                          "weak");
  test::node_process strong(supervised_config("strong", "max_restarts: 100"), nats.url(), "strong");
  test::client client(nats.url());
  for (int i = 0; i < 3; ++i) {
    inject(client, "weak", "crash");
    std::this_thread::sleep_for(100ms);
  }
  BOOST_REQUIRE(weak.process().wait_for_line("stopped taking 'classify'", 10s));
  for (int i = 0; i < 20; ++i) {
    auto rep = client.send("classify", grey(128, "after" + std::to_string(i)), encoding::msgpack, 10s);
    BOOST_TEST(rep.ok, test::message_of(rep));
    BOOST_TEST(rep.node == "strong");
  }
}

BOOST_AUTO_TEST_SUITE_END()
