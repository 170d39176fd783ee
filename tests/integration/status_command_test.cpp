// `infermesh status` against the two-node example (cluster-config/two-node.yaml) on a real nats-server: both
// nodes and their models are listed, `--json` parses, a node that stopped is no longer listed, and a node whose
// model is unhealthy says so.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <csignal>

#include "messages/subjects.hpp"
#include "support/child_process.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// The command gathers answers for 1 s by default, then prints: it ends well within this.
constexpr auto exit_bound = 30s;

const std::string two_node = std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/two-node.yaml";

struct run_result {
  int status = -1;
  std::string output;
};

run_result status(const std::string& nats_url, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{INFERMESH_BINARY, "status", "--nats", nats_url};
  argv.insert(argv.end(), extra.begin(), extra.end());
  test::child_process cli("status", argv);
  const auto code = cli.wait_exit(exit_bound);
  BOOST_REQUIRE_MESSAGE(code, "infermesh status did not exit:\n" << cli.output());
  return {*code, cli.output()};
}

struct two_nodes {
  test::nats_server nats;
  std::unique_ptr<test::node_process> a =
      std::make_unique<test::node_process>(test::config_file{two_node, "node-a"}, nats.url(), "node-a");
  test::node_process b{test::config_file{two_node, "node-b"}, nats.url(), "node-b"};
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(status_command, two_nodes)

BOOST_AUTO_TEST_CASE(lists_both_nodes_of_the_two_node_example_with_their_models) {
  const auto r = status(nats.url());
  BOOST_TEST(r.status == 0, r.output);
  for (const std::string expected :
       {"NODE", "node-a", "node-b", "doc-orientation@1 serving", "doc-classifier@1 serving", "tesseract-eng@5.3 serving",
        "classify,process", "extract,ocr,process"})
    BOOST_TEST(r.output.find(expected) != std::string::npos, "'" << expected << "' in:\n" << r.output);
}

BOOST_AUTO_TEST_CASE(json_lists_the_nodes_for_machines) {
  const auto r = status(nats.url(), {"--json"});
  BOOST_TEST_REQUIRE(r.status == 0, r.output);
  const auto j = json::parse(r.output.substr(r.output.find('{')));
  BOOST_TEST_REQUIRE(j.at("nodes").size() == 2u, r.output);
  std::map<std::string, json> by_node;
  for (const auto& n : j["nodes"]) by_node[n.at("node").get<std::string>()] = n;
  BOOST_TEST_REQUIRE(by_node.count("node-a") == 1u);
  BOOST_TEST_REQUIRE(by_node.count("node-b") == 1u);
  BOOST_TEST(by_node["node-a"].at("models").size() == 2u);
  BOOST_TEST(by_node["node-b"].at("models").at(0).at("name") == "tesseract-eng");
  BOOST_TEST(by_node["node-a"].at("stats").at("type") == "io.nats.micro.v1.stats_response");
  BOOST_TEST(by_node["node-b"].at("uptime_s").get<double>() >= 0.0);
}

BOOST_AUTO_TEST_CASE(a_node_that_stopped_is_no_longer_listed) {
  BOOST_TEST_REQUIRE(a->stop_problem(60s) == "");
  a.reset();
  const auto r = status(nats.url());
  BOOST_TEST(r.status == 0, r.output);
  BOOST_TEST(r.output.find("node-a") == std::string::npos, r.output);
  BOOST_TEST(r.output.find("node-b") != std::string::npos, r.output);
}

BOOST_AUTO_TEST_CASE(watch_refreshes_until_sigint) {
  test::child_process cli("status-watch", {INFERMESH_BINARY, "status", "--watch", "--nats", nats.url()});
  // Two refreshes, 2 s apart: each prints the header.
  BOOST_TEST_REQUIRE(cli.wait_for_lines("NODE", 2, 20s), cli.output());
  cli.signal(SIGINT);
  const auto code = cli.wait_exit(exit_bound);
  BOOST_TEST_REQUIRE(static_cast<bool>(code));
  BOOST_TEST(*code == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// A node whose model went past its restart intensity (crashed through the fault door) says so in the table
// and in --json, and its STATS carry the model's state and restarts.
BOOST_AUTO_TEST_SUITE(status_of_an_unhealthy_model)

BOOST_AUTO_TEST_CASE(a_node_whose_model_is_unhealthy_says_so) {
  test::nats_server nats;
  constexpr int allowed_restarts = 1;  // the second crash within the period makes the model unhealthy
  test::node_process node(test::synthetic_config(2000, "max_batch_size: 8", "  faults: true\n",
                                                 {"", "    supervision: {max_restarts: " + std::to_string(allowed_restarts) +
                                                          ", period_ms: 600000, backoff_ms: 5}\n"}),
                          nats.url(), "sick");
  test::client client(nats.url());
  const auto healthy = status(nats.url());
  BOOST_TEST(healthy.output.find("synthetic@1 serving") != std::string::npos, healthy.output);
  for (int i = 1; i <= allowed_restarts + 1; ++i) {
    auto answer = client.transport().request(wire::control_subject("sick"), R"({"model": "synthetic", "action": "crash"})", 5s);
    BOOST_REQUIRE(answer && answer->view().find("\"ok\":true") != std::string_view::npos);
    if (i <= allowed_restarts) BOOST_REQUIRE(node.process().wait_for_lines("restarted: ready", i, 10s));
  }
  BOOST_REQUIRE(node.process().wait_for_line("stopped taking 'classify'", 10s));
  const auto table = status(nats.url());
  BOOST_TEST(table.status == 0, table.output);
  BOOST_TEST(table.output.find("UNHEALTHY") != std::string::npos, table.output);
  BOOST_TEST(table.output.find("synthetic@1") != std::string::npos, table.output);
  const auto r = status(nats.url(), {"--json"});
  const auto j = json::parse(r.output.substr(r.output.find('{')));
  BOOST_TEST_REQUIRE(j.at("nodes").size() == 1u, r.output);
  const auto& model = j["nodes"][0].at("models").at(0);
  BOOST_TEST(model.at("healthy") == false, model.dump());
  BOOST_TEST(model.at("state") == "unhealthy", model.dump());
  BOOST_TEST(model.at("restarts").get<int>() == allowed_restarts, model.dump());
}

BOOST_AUTO_TEST_SUITE_END()
