// Start-up and shutdown of the node process: config errors, devices, NATS reachability, graceful drain.
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/free_port.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// Runs `infermesh node` with `config_yaml` and returns (exit status, output); the node is expected to refuse.
std::pair<int, std::string> refused_start(const std::string& config_yaml, const std::string& nats_url) {
  const auto dir = test::make_temp_dir("infermesh-lifecycle");
  const auto path = dir + "/node.yaml";
  std::ofstream(path) << config_yaml;
  test::child_process node("node-refused", {INFERMESH_BINARY, "node", "--config", path, "--nats", nats_url});
  const auto status = node.wait_exit(60s);
  std::filesystem::remove_all(dir);
  return {status.value_or(-1), node.output()};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle)

BOOST_AUTO_TEST_CASE(sigterm_answers_every_accepted_request_then_exits_zero) {
  constexpr int model_latency_us = 300000;
  constexpr int requests = 6;
  test::nats_server nats;
  test::node_process node(test::synthetic_config(model_latency_us, "max_batch_size: 2"), nats.url());
  test::client client(nats.url());
  test::reply_collector collector(client.transport(), "test.replies");
  const auto payload = encode_request(test::image_request(test::sample_image("id_card.jpg")), encoding::msgpack);
  for (int i = 0; i < requests; ++i)
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), payload, "test.replies"));
  // The first reply comes after one model latency; by then the node has accepted all of them.
  BOOST_REQUIRE(collector.wait_for(1, 30s));
  const auto stopped = node.stop_problem(30s);
  BOOST_REQUIRE_MESSAGE(stopped.empty(), stopped);
  BOOST_REQUIRE(collector.wait_for(requests, 5s));
  for (const auto& rep : collector.replies()) BOOST_TEST(rep.ok);
  BOOST_TEST(node.process().output().find("stopped") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(sigterm_ends_a_node_whose_model_was_slowed_for_a_day_within_its_drain_timeout) {
  test::nats_server nats;
  test::node_process node(test::synthetic_config(1000, "max_batch_size: 2", "  faults: true\n  drain_timeout_ms: 2000\n"),
                          nats.url(), "slowed");
  test::client client(nats.url());
  const std::string slow = R"({"model": "synthetic", "action": "slow", "value": 86400000})";  // the largest allowed
  auto answer = client.transport().request(wire::control_subject("slowed"), slow, 5s);
  BOOST_REQUIRE(answer);
  BOOST_REQUIRE(answer->view().find("\"ok\":true") != std::string_view::npos);
  const std::string too_slow = R"({"model": "synthetic", "action": "slow", "value": 86400001})";
  answer = client.transport().request(wire::control_subject("slowed"), too_slow, 5s);
  BOOST_REQUIRE(answer);
  BOOST_TEST(answer->view().find("between 0 and 86400000") != std::string_view::npos, std::string(answer->view()));
  const auto payload = encode_request(test::image_request(test::sample_image("id_card.jpg")), encoding::msgpack);
  BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), payload, "test.replies"));
  BOOST_REQUIRE(!client.transport().flush(5s));
  std::this_thread::sleep_for(500ms);  // the request reaches the slowed model (nothing to poll: it is stuck there)
  const auto sent = std::chrono::steady_clock::now();
  node.process().signal(SIGTERM);
  const auto status = node.process().wait_exit(20s);
  BOOST_REQUIRE_MESSAGE(status, "still running 20 s after SIGTERM:\n" << node.process().output());
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
  BOOST_TEST(took.count() < 2000 + 5000, "exited " << took.count() << " ms after SIGTERM (drain timeout 2000 ms)");
}

BOOST_AUTO_TEST_CASE(a_config_error_stops_start_up_with_a_message_naming_the_key) {
  test::nats_server nats;
  auto [status, output] = refused_start(test::synthetic_config(1000, "max_batch_size: 0"), nats.url());
  BOOST_TEST(status != 0);
  BOOST_TEST(output.find("models[0].batching.max_batch_size") != std::string::npos, output);
  auto [status2, output2] = refused_start(test::synthetic_config(1000, "") + "surprise: true\n", nats.url());
  BOOST_TEST(status2 != 0);
  BOOST_TEST(output2.find("surprise") != std::string::npos, output2);
}

BOOST_AUTO_TEST_CASE(a_cuda_device_on_this_cpu_only_build_stops_start_up_clearly) {
  test::nats_server nats;
  auto config = test::sample_classifier_config();
  config.replace(config.find("    serves: classify"), 0, "    device: cuda:0\n");
  auto [status, output] = refused_start(config, nats.url());
  BOOST_TEST(status != 0);
  BOOST_TEST(output.find("cuda:0") != std::string::npos, output);
  BOOST_TEST(output.find("CUDA") != std::string::npos, output);
}

BOOST_AUTO_TEST_CASE(an_unreachable_nats_server_stops_start_up_naming_the_servers) {
  const auto nobody = "nats://127.0.0.1:" + std::to_string(test::free_loopback_port());
  auto [status, output] = refused_start(test::synthetic_config(1000, ""), nobody);
  BOOST_TEST(status != 0);
  BOOST_TEST(output.find(nobody) != std::string::npos, output);
}

BOOST_AUTO_TEST_SUITE_END()
