// Supervision: a model actor that dies is restarted by its batcher with the batch it held re-queued; a batcher
// that dies is restarted with its model by the group's supervisor, which re-sends what it held; a router that
// dies is restarted; a poison input fails alone; a model past its restart intensity makes its node stop taking
// (and pulling) the op, and another node serves it. Faults are injected through the node's control subject
// (node.faults: true), as simulations do.
#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "messages/codec.hpp"
#include "messages/subjects.hpp"
#include "runtime/load_client.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// Supervision that restarts quickly and never gives up (for kill-under-load runs).
const std::string restart_freely = "max_restarts: 1000, period_ms: 60000, backoff_ms: 5, max_backoff_ms: 5, max_attempts: 5";

std::string supervised_config(const std::string& supervision, const std::string& synthetic = "",
                              const std::string& top = "") {
  return test::synthetic_config(2000, "max_batch_size: 8, max_queue_delay_us: 1000, queue_capacity: 512",
                                "  faults: true\n", {synthetic, "    supervision: {" + supervision + "}\n", top});
}

request grey(int level, const std::string& id) { return test::grey_request(level, id); }

void inject(test::client& client, const std::string& node, const std::string& action, int value = 0) {
  const std::string command = R"({"model": "synthetic", "action": ")" + action + R"(", "value": )" +
                              std::to_string(value) + "}";
  auto answer = client.transport().request(wire::control_subject(node), command, 5s);
  BOOST_REQUIRE(answer);
  BOOST_REQUIRE(answer->view().find("\"ok\":true") != std::string_view::npos);
}

double p99_of(std::vector<double> ms) {
  if (ms.empty()) return 0;
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() * 99 / 100];
}

/// What a node answered while one of its actors was killed again and again under load.
struct kill_run {
  load_report report;
  std::uint64_t received = 0, replied = 0;  ///< the node's router counters
  std::string log;

  std::string summary() const {
    std::ostringstream out;
    out << "sent " << report.sent << " / answered " << report.answered << " (ok " << report.ok << ") / lost "
        << report.lost << " / duplicated " << replied - std::min(replied, received) << " / p99 " << report.p99_ms
        << " ms";
    for (const auto& [code, n] : report.errors) out << " / " << code << " " << n;
    return out.str();
  }
  void check() const {
    BOOST_TEST(report.lost == 0u);
    BOOST_TEST(report.answered == report.sent);
    BOOST_TEST(replied == received, "the node answered each request it received exactly once");
    BOOST_TEST(report.ok >= report.sent * 99 / 100);
  }
};

/// 8 closed-loop clients making `attempts` tries per request (1: the node alone must not lose anything);
/// `kills` times: wait for requests to flow, call `fault`, wait for the node to log `restarted_line` again.
/// Then stops the node.
kill_run kill_under_load(test::nats_server& nats, test::node_process& node, const std::function<void()>& fault,
                         int kills, const std::string& restarted_line, int attempts = 1,
                         std::chrono::milliseconds timeout = 30s) {
  std::vector<std::uint8_t> png;
  cv::imencode(".png", cv::Mat(40, 40, CV_8UC3, cv::Scalar(128, 128, 128)), png);
  kill_run run;
  test::progress answered;
  std::atomic<bool> stop{false};
  std::thread load([&] {
    auto transport = test::connect_client({nats.url()});
    load_options how;
    how.clients = 8;
    how.duration = 120s;
    how.timeout = timeout;
    how.attempts = attempts;
    how.on_answer = [&](std::uint64_t n) { answered.set(n); };
    how.stop = &stop;
    run.report = run_load(*transport, how, std::string(png.begin(), png.end()));
  });
  for (int kill = 1; kill <= kills; ++kill) {
    BOOST_REQUIRE(answered.wait_for(15 * kill, 30s));                           // requests flow...
    fault();                                                                    // ...it dies...
    BOOST_REQUIRE(node.process().wait_for_lines(restarted_line, kill, 30s));    // ...and is replaced
  }
  BOOST_REQUIRE(answered.wait_for(15 * (kills + 1), 30s));  // and serves after the last kill
  stop = true;
  load.join();
  const auto stopped = node.stop_problem(30s);
  BOOST_REQUIRE_MESSAGE(stopped.empty(), stopped);
  run.log = node.process().output();
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(run.log, m, std::regex(R"(stats router: (\d+) received, (\d+) ok, (\d+) errors)")));
  run.received = std::stoull(m[1]);
  run.replied = std::stoull(m[2]) + std::stoull(m[3]);
  return run;
}

/// A node that restarts freely gets fault `action` `kills` times under load (no client retries): every request
/// is answered once; the report names `what` died.
void answers_everything_while(const std::string& action, int kills, const std::string& restarted_line,
                              const std::string& what) {
  test::nats_server nats;
  test::node_process node(supervised_config(restart_freely), nats.url(), "s1");
  test::client client(nats.url());
  const auto run = kill_under_load(nats, node, [&] { inject(client, "s1", action); }, kills, restarted_line);
  BOOST_TEST_MESSAGE(what << " killed " << kills << " times under load: " << run.summary());
  run.check();
}

/// Four receipts are read by a 2-engine OCR node when fault `action` hits its Tesseract model mid-page: every
/// page is still read right.
void ocr_survives(const std::string& action) {
  test::nats_server nats;
  test::node_process node("node: {name: o1, stats_interval_ms: 0, faults: true}\n"
                          "pipelines: {ocr: [ocr]}\n"
                          "models:\n  - name: tesseract-eng\n    serves: ocr\n    workers: 2\n",
                          nats.url(), "o1");
  test::client client(nats.url());
  const std::string inbox = "test.ocr.crash.replies";
  test::reply_collector collector(client.transport(), inbox);
  const auto receipt = test::read_file(std::string(INFERMESH_SOURCE_DIR) + "/samples/receipt-upright.jpg");
  for (int i = 0; i < 4; ++i) {
    request r;
    r.id = "page" + std::to_string(i);
    r.image = shared_bytes::copy_of(receipt);
    r.deadline_ms = 120000;
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject("ocr"), encode_request(r, encoding::msgpack), inbox));
  }
  const std::string crash = R"({"model": "tesseract-eng", "action": ")" + action + R"(", "value": 0})";
  auto answer = client.transport().request(wire::control_subject("o1"), crash, 5s);  // mid-page
  BOOST_REQUIRE(answer);
  BOOST_REQUIRE(collector.wait_for(4, 120s));
  for (const auto& rep : collector.replies()) {
    BOOST_TEST(rep.ok, rep.id << ": " << test::message_of(rep));
    if (rep.ok)
      BOOST_TEST(rep.result.find("pages")->get_if<value_array>()->at(0).find("text")->get_if<std::string>()->find("TOTAL") !=
                 std::string::npos);
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(supervision)

BOOST_AUTO_TEST_CASE(a_model_killed_100_times_under_load_answers_every_request_once) {
  test::nats_server nats;
  test::node_process node(supervised_config(restart_freely), nats.url(), "s1");
  test::client client(nats.url());
  const auto run = kill_under_load(nats, node, [&] { inject(client, "s1", "crash"); }, 100, "restarted: ready");
  BOOST_TEST_MESSAGE("model actor killed 100 times under load: " << run.summary());
  run.check();
  std::smatch m;
  BOOST_REQUIRE(std::regex_search(run.log, m, std::regex(R"((\d+) restarts \(longest recovery (\d+) ms\))")));
  BOOST_TEST(std::stoi(m[1]) == 100);
  BOOST_TEST(std::stoi(m[2]) < 500, "a replacement served within " << m[2] << " ms of its crash");
}

BOOST_AUTO_TEST_CASE(a_batcher_killed_under_load_is_replaced_with_its_model_and_what_it_held_is_answered) {
  answers_everything_while("crash-batcher", 20, "batcher restarted", "batcher (with its model actor)");
}

BOOST_AUTO_TEST_CASE(a_model_step_actor_killed_under_load_is_restarted_and_what_it_held_is_answered) {
  answers_everything_while("crash-step", 10, "step actor restarted", "step actor of a model");
}

BOOST_AUTO_TEST_CASE(a_router_killed_under_load_is_restarted_and_retrying_clients_lose_nothing) {
  test::nats_server nats;
  test::node_process node(test::synthetic_config(2000, "max_batch_size: 8, max_queue_delay_us: 1000",
                                                 "  faults: true\n  supervision: {max_restarts: 1000, backoff_ms: 5, "
                                                 "max_backoff_ms: 5}\n"),
                          nats.url(), "s1");
  test::client client(nats.url());
  auto crash_router = [&] {
    auto answer = client.transport().request(wire::control_subject("s1"), R"({"actor": "router", "action": "crash"})", 5s);
    BOOST_REQUIRE(answer);
    BOOST_REQUIRE(answer->view().find("\"ok\":true") != std::string_view::npos);
  };
  // What the dead router held gets no answer from it: the clients retry (same id) after a 1 s try. A kill
  // comes every 15 answers and hits every request in the router then, retries included: 5 tries, so that one
  // request hit on each of them (seen once in ~10 runs with 3) is out of reach.
  const auto run = kill_under_load(nats, node, crash_router, 10, "router restarted", 5, 1s);
  BOOST_TEST_MESSAGE("router killed 10 times under load, clients retrying: " << run.summary() << " / retried "
                     << run.report.retried);
  BOOST_TEST(run.report.lost == 0u);
  BOOST_TEST(run.report.answered == run.report.sent);
  BOOST_TEST(run.report.ok == run.report.sent);
}

BOOST_AUTO_TEST_CASE(a_poison_input_fails_alone_and_its_batch_mates_succeed) {
  test::nats_server nats;
  test::node_process node(supervised_config("max_restarts: 5", ", poison_mean_above: 2.0"), nats.url(), "s1");
  test::client client(nats.url());
  const std::string inbox = "test.poison.replies";
  test::reply_collector collector(client.transport(), inbox);
  inject(client, "s1", "slow", 100);  // hold the model on the first request, so the next ones queue into one batch
  BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), encode_request(grey(128, "warm"), encoding::msgpack), inbox));
  for (int i = 0; i < 7; ++i)
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"),
                                              encode_request(grey(100, "ok" + std::to_string(i)), encoding::msgpack), inbox));
  BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), encode_request(grey(255, "poison"), encoding::msgpack), inbox));
  BOOST_REQUIRE(collector.wait_for(9, 30s));
  for (const auto& rep : collector.replies()) {
    if (rep.id == "poison") BOOST_TEST(test::code_of(rep) == "internal", test::message_of(rep));
    else BOOST_TEST(rep.ok, rep.id << ": " << test::message_of(rep));
  }
}

BOOST_AUTO_TEST_CASE(past_its_restart_intensity_a_node_stops_taking_the_op_and_another_node_serves_it) {
  test::nats_server nats;
  test::node_process weak(supervised_config("max_restarts: 2, period_ms: 60000, backoff_ms: 5"), nats.url(),
                          "weak");
  test::node_process strong(supervised_config("max_restarts: 100"), nats.url(), "strong");
  test::client client(nats.url());
  for (int i = 1; i <= 2; ++i) {  // two restarts are allowed...
    inject(client, "weak", "crash");
    BOOST_REQUIRE(weak.process().wait_for_lines("restarted: ready", i, 10s));
  }
  inject(client, "weak", "crash");  // ...the third is one too many
  BOOST_REQUIRE(weak.process().wait_for_line("stopped taking 'classify'", 10s));
  constexpr int n = 20;
  int ok = 0;
  std::vector<double> latencies;
  for (int i = 0; i < n; ++i) {  // as a core-mode client does: `unavailable` is retried (elsewhere)
    const auto sent = std::chrono::steady_clock::now();
    auto rep = send_with_retries(client.transport(), "classify", grey(128, "after" + std::to_string(i)),
                                 encoding::msgpack, {3, 10s, 50ms});
    latencies.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
    ok += rep.ok ? 1 : 0;
    BOOST_TEST(rep.ok, test::message_of(rep));
    BOOST_TEST(rep.node == "strong");
  }
  BOOST_TEST_MESSAGE("restart intensity exceeded, core mode: sent " << n << " / answered " << ok << " / lost " << n - ok
                     << " / duplicated 0 / p99 " << p99_of(latencies) << " ms (all from the healthy node)");
}

BOOST_AUTO_TEST_CASE(a_node_whose_model_takes_long_to_reload_stops_taking_the_op_until_the_model_serves) {
  test::nats_server nats;
  // The replacement takes 3 s to load; past 200 ms the node stops taking classify.
  test::node_process slow(supervised_config("max_restarts: 100, backoff_ms: 5, loading_grace_ms: 200", ", load_ms: 3000"),
                          nats.url(), "slow");
  test::node_process quick(supervised_config("max_restarts: 100"), nats.url(), "quick");
  test::client client(nats.url());
  inject(client, "slow", "crash");
  BOOST_REQUIRE(slow.process().wait_for_line("stopped taking 'classify'", 10s));
  for (int i = 0; i < 10; ++i) {
    auto rep = send_with_retries(client.transport(), "classify", grey(128, "reloading" + std::to_string(i)),
                                 encoding::msgpack, {3, 10s, 50ms});
    BOOST_TEST(rep.ok, test::message_of(rep));
    BOOST_TEST(rep.node == "quick");
  }
  BOOST_REQUIRE(slow.process().wait_for_line("restarted: ready", 15s));
  BOOST_TEST(slow.process().wait_for_line("taking 'classify' again", 5s));
}

BOOST_AUTO_TEST_CASE(past_its_restart_intensity_a_durable_node_stops_pulling_and_another_node_serves_the_queue) {
  test::nats_server nats(true);
  // Two deliveries at most: a node that pulled requests it cannot serve and handed them back would soon have
  // them answered `internal`.
  const std::string durable = "delivery: {classify: durable}\njetstream: {ack_wait_ms: 2000, max_deliver: 2}\n";
  test::node_process weak(supervised_config("max_restarts: 2, period_ms: 60000, backoff_ms: 5", "", durable),
                          nats.url(), "weak");
  test::node_process strong(supervised_config("max_restarts: 100", "", durable), nats.url(), "strong");
  test::client client(nats.url());
  for (int i = 1; i <= 2; ++i) {
    inject(client, "weak", "crash");
    BOOST_REQUIRE(weak.process().wait_for_lines("restarted: ready", i, 10s));
  }
  inject(client, "weak", "crash");
  BOOST_REQUIRE(weak.process().wait_for_line("stopped taking 'classify'", 10s));
  const std::string inbox = "test.durable.gated";
  test::reply_collector collector(client.transport(), inbox);
  constexpr int n = 100;
  for (int i = 0; i < n; ++i) {
    auto r = grey(128, "queued" + std::to_string(i));
    r.reply_to = inbox;
    BOOST_REQUIRE(!client.transport().publish_durable(wire::durable_subject("classify"), encode_request(r, encoding::msgpack),
                                                      r.id, 5s));
  }
  const auto all_sent = std::chrono::steady_clock::now();
  BOOST_TEST(collector.wait_for_ids(n, 30s));
  const auto replies = collector.replies();
  const auto arrivals = collector.arrival_times();
  std::set<std::string> ids;
  std::vector<double> since_all_sent;
  for (std::size_t i = 0; i < replies.size(); ++i) {
    ids.insert(replies[i].id);
    since_all_sent.push_back(std::chrono::duration<double, std::milli>(arrivals[i] - all_sent).count());
    BOOST_TEST(replies[i].ok, replies[i].id << ": " << test::message_of(replies[i]));
    BOOST_TEST(replies[i].node == "strong");
  }
  BOOST_TEST_MESSAGE("restart intensity exceeded, durable mode: sent " << n << " / answered " << ids.size()
                     << " / lost " << n - static_cast<int>(ids.size()) << " / duplicated "
                     << replies.size() - ids.size() << " / p99 " << p99_of(since_all_sent)
                     << " ms after the last publish (all from the healthy node)");
}

BOOST_AUTO_TEST_CASE(an_ocr_engine_that_dies_is_replaced_and_its_page_is_read_again) { ocr_survives("crash"); }

BOOST_AUTO_TEST_CASE(an_ocr_pool_that_dies_is_restarted_with_fresh_engines_and_its_requests_are_read_again) {
  ocr_survives("crash-pool");
}

BOOST_AUTO_TEST_SUITE_END()
