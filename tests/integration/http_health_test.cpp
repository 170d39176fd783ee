// HTTP health (KServe v2 paths) of a real node process: readiness is 503 naming the model while it loads and
// while it is unhealthy (past its restart intensity, crashed through the fault door), 200 when it serves;
// a model's own ready path is 200 / 503 / 404; liveness stays 200 when the NATS server is gone.
#include <boost/test/unit_test.hpp>

#include <thread>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// The synthetic model's start-up load: long enough that the test's first probe, sent as soon as the node
/// logs that HTTP is up (before it connects to NATS and starts loading), lands while it loads.
constexpr int load_ms = 5000;

std::string http_yaml(int port) { return "http: {listen: \"127.0.0.1:" + std::to_string(port) + "\"}\n"; }

std::string body_of(const std::optional<test::http_reply>& r) { return r ? r->body : "(no answer)"; }
int status_of(const std::optional<test::http_reply>& r) { return r ? r->status : 0; }

/// Polls `target` until it answers `status` (every 100 ms, at most `timeout`); the last answer.
std::optional<test::http_reply> wait_for_status(int port, const std::string& target, int status,
                                                std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto r = test::http_get(port, target, 5s);
    if (status_of(r) == status || std::chrono::steady_clock::now() >= until) return r;
    std::this_thread::sleep_for(100ms);
  }
}

void crash_model(test::client& client, const std::string& node) {
  auto answer = client.transport().request(wire::control_subject(node), R"({"model": "synthetic", "action": "crash"})", 5s);
  BOOST_REQUIRE(answer);
  BOOST_REQUIRE(answer->view().find("\"ok\":true") != std::string_view::npos);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(http_health)

BOOST_AUTO_TEST_CASE(ready_is_503_naming_the_model_while_it_loads_and_200_once_it_serves) {
  test::nats_server nats;
  const int port = test::free_loopback_port();
  test::node_process node(test::while_starting,
                          test::synthetic_config(1000, "max_batch_size: 4", "",
                                                 {", load_ms: " + std::to_string(load_ms), "", http_yaml(port)}),
                          nats.url(), "h-load");
  BOOST_REQUIRE_MESSAGE(node.process().wait_for_line("http: health and metrics on", 30s), node.process().output());
  const auto loading = test::http_get(port, "/v2/health/ready");
  BOOST_TEST(status_of(loading) == 503, body_of(loading));
  BOOST_TEST(body_of(loading).find("loading model 'synthetic'") != std::string::npos, body_of(loading));
  const auto model_loading = test::http_get(port, "/v2/models/synthetic/ready");
  BOOST_TEST(status_of(model_loading) == 503, body_of(model_loading));
  const auto live = test::http_get(port, "/v2/health/live");
  BOOST_TEST(status_of(live) == 200, "live while loading: " << body_of(live));
  BOOST_REQUIRE(node.wait_ready(60s));
  const auto ready = test::http_get(port, "/v2/health/ready");
  BOOST_TEST(status_of(ready) == 200, body_of(ready));
  BOOST_TEST(status_of(test::http_get(port, "/v2/models/synthetic/ready")) == 200);
  const auto unknown = test::http_get(port, "/v2/models/resnet50/ready");
  BOOST_TEST(status_of(unknown) == 404, body_of(unknown));
  BOOST_TEST(status_of(test::http_get(port, "/v2/health/live")) == 200);
  BOOST_TEST(status_of(test::http_get(port, "/no/such/path")) == 404);
  const auto post = test::http_request(port, "POST", "/v2/health/ready");
  BOOST_TEST(status_of(post) == 405);
  BOOST_TEST((post ? post->allow : "") == "GET");
  BOOST_TEST(node.stop_problem(30s) == "");
}

BOOST_AUTO_TEST_CASE(ready_is_503_while_the_model_is_past_its_restart_intensity_and_live_stays_200) {
  test::nats_server nats;
  const int port = test::free_loopback_port();
  constexpr int allowed_restarts = 2;  // the third crash within the period makes the model unhealthy
  test::node_process node(test::synthetic_config(2000, "max_batch_size: 8", "  faults: true\n",
                                                 {"", "    supervision: {max_restarts: " + std::to_string(allowed_restarts) +
                                                          ", period_ms: 600000, backoff_ms: 5}\n",
                                                  http_yaml(port)}),
                          nats.url(), "h-sick");
  test::client client(nats.url());
  BOOST_TEST(status_of(test::http_get(port, "/v2/health/ready")) == 200);
  for (int i = 1; i <= allowed_restarts; ++i) {
    crash_model(client, "h-sick");
    BOOST_REQUIRE(node.process().wait_for_lines("restarted: ready", i, 10s));
  }
  crash_model(client, "h-sick");
  BOOST_REQUIRE(node.process().wait_for_line("stopped taking 'classify'", 10s));
  const auto ready = test::http_get(port, "/v2/health/ready");
  BOOST_TEST(status_of(ready) == 503, body_of(ready));
  BOOST_TEST(body_of(ready).find("model 'synthetic' is unhealthy") != std::string::npos, body_of(ready));
  const auto model = test::http_get(port, "/v2/models/synthetic/ready");
  BOOST_TEST(status_of(model) == 503, body_of(model));
  const auto live = test::http_get(port, "/v2/health/live");
  BOOST_TEST(status_of(live) == 200, "an unhealthy model is no reason to restart the process: " << body_of(live));
  // Each replacement that served was a restart and a load (after the start-up load); past the intensity the
  // next replacement waits for the period.
  const auto metrics = body_of(test::http_get(port, "/metrics"));
  BOOST_TEST(metrics.find("infermesh_model_restarts_total{model=\"synthetic\"} " + std::to_string(allowed_restarts) + "\n") !=
                 std::string::npos,
             metrics);
  BOOST_TEST(metrics.find("infermesh_model_loads_total{model=\"synthetic\"} " + std::to_string(1 + allowed_restarts) + "\n") !=
                 std::string::npos,
             metrics);
}

BOOST_AUTO_TEST_CASE(ready_is_503_saying_unloaded_not_unhealthy_after_an_operator_unloads_the_model) {
  test::nats_server nats;
  const int port = test::free_loopback_port();
  test::node_process node(test::synthetic_config(1000, "max_batch_size: 4", "  control: true\n", {"", "", http_yaml(port)}),
                          nats.url(), "h-unload");
  test::client client(nats.url());
  BOOST_TEST(status_of(test::http_get(port, "/v2/health/ready")) == 200);
  auto answer = client.transport().request(wire::control_subject("h-unload"), R"({"command": "unload", "model": "synthetic"})", 10s);
  BOOST_REQUIRE(answer);
  BOOST_REQUIRE_MESSAGE(answer->view().find("\"ok\":true") != std::string_view::npos, std::string(answer->view()));
  const auto ready = wait_for_status(port, "/v2/health/ready", 503, 10s);
  BOOST_TEST(status_of(ready) == 503, body_of(ready));
  BOOST_TEST(body_of(ready).find("model 'synthetic' is unloaded") != std::string::npos, body_of(ready));
  BOOST_TEST(body_of(ready).find("unhealthy") == std::string::npos, body_of(ready));
  const auto model = test::http_get(port, "/v2/models/synthetic/ready");
  BOOST_TEST(status_of(model) == 503, body_of(model));
  BOOST_TEST(body_of(model).find("is unloaded") != std::string::npos, body_of(model));
  BOOST_TEST(node.stop_problem(30s) == "");
}

BOOST_AUTO_TEST_CASE(live_stays_200_when_the_nats_server_is_stopped_while_ready_says_why_it_is_not) {
  auto nats = std::make_unique<test::nats_server>();
  const int port = test::free_loopback_port();
  test::node_process node(test::synthetic_config(1000, "max_batch_size: 4", "", {"", "", http_yaml(port)}), nats->url(),
                          "h-nats");
  BOOST_TEST(status_of(test::http_get(port, "/v2/health/ready")) == 200);
  nats.reset();  // stops the server by PID
  const auto ready = wait_for_status(port, "/v2/health/ready", 503, 30s);
  BOOST_TEST(status_of(ready) == 503, body_of(ready));
  BOOST_TEST(body_of(ready).find("not connected to NATS") != std::string::npos, body_of(ready));
  const auto live = test::http_get(port, "/v2/health/live");
  BOOST_TEST(status_of(live) == 200, "a NATS outage must not restart the process: " << body_of(live));
  BOOST_TEST(status_of(test::http_get(port, "/v2/models/synthetic/ready")) == 200, "the model still serves");
}

BOOST_AUTO_TEST_CASE(a_taken_http_address_stops_start_up_with_an_error_naming_http_listen) {
  test::nats_server nats;
  const int port = test::free_loopback_port();
  test::node_process first(test::synthetic_config(1000, "max_batch_size: 4", "", {"", "", http_yaml(port)}), nats.url(),
                           "h-first");
  test::node_process second(test::while_starting,
                            test::synthetic_config(1000, "max_batch_size: 4", "", {"", "", http_yaml(port)}), nats.url(),
                            "h-second");
  const auto status = second.process().wait_exit(30s);
  BOOST_TEST(status.has_value());
  BOOST_TEST(status.value_or(0) != 0);
  BOOST_TEST(second.process().output().find("http.listen") != std::string::npos, second.process().output());
}

BOOST_AUTO_TEST_SUITE_END()
