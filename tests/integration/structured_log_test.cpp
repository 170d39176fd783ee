// Structured logs (`--log-format json`), through the real binary: every line a node prints is one JSON object
// with ts, level, node and msg, and a request the node fails `internal` leaves a warn line carrying its id.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include <sstream>

#include "support/child_process.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const std::string node_name = "json-node";
/// A synthetic model that fails every batch holding an image brighter than mean 2.0 (out of 255): a white page
/// is a poison input, answered `internal` after its attempts.
const std::string poison_config = test::synthetic_config(
    2000, "max_batch_size: 8, max_queue_delay_us: 1000", "",
    {", poison_mean_above: 2.0", "    supervision: {max_restarts: 100, backoff_ms: 5, max_attempts: 2}\n", ""});
/// Draining an idle node takes well under a second; 30 s leaves room for a loaded CI machine.
constexpr auto stop_bound = 30s;

request grey(int level, const std::string& id) { return test::grey_request(level, id); }

/// Every non-empty line of `output`.
std::vector<std::string> lines_of(const std::string& output) {
  std::vector<std::string> out;
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(structured_logs)

BOOST_AUTO_TEST_CASE(a_json_node_prints_only_json_objects_and_logs_the_id_of_a_request_it_failed) {
  test::nats_server nats;
  test::node_process node(poison_config, nats.url(), node_name, {"--log-format", "json"});
  test::client client(nats.url());
  const std::string poison_id = "poison \"17\"\n";  // quotes and a newline: the id must survive escaping
  BOOST_TEST(client.send("classify", grey(100, "fine-1")).ok);
  const auto failed = client.send("classify", grey(255, poison_id));
  BOOST_REQUIRE_MESSAGE(test::code_of(failed) == "internal", test::code_of(failed) << ": " << test::message_of(failed));
  BOOST_REQUIRE_MESSAGE(node.stop_problem(stop_bound).empty(), node.process().output());

  const auto lines = lines_of(node.process().output());
  BOOST_TEST(lines.size() >= 4u, "start-up, ready, stats and stop lines at least");
  std::size_t with_the_id = 0;
  for (const auto& line : lines) {
    const auto event = nlohmann::json::parse(line, nullptr, false);
    BOOST_TEST_REQUIRE(event.is_object(), line);
    for (const char* key : {"ts", "level", "node", "msg"})
      BOOST_TEST_REQUIRE(event.contains(key), key << " missing: " << line);
    BOOST_TEST(event["ts"].is_string());
    BOOST_TEST(event["msg"].is_string());
    BOOST_TEST(event["node"] == node_name, line);
    const std::string level = event["level"];
    BOOST_TEST((level == "info" || level == "warn" || level == "error"), line);
    if (event.value("id", "") == poison_id) {
      ++with_the_id;
      BOOST_TEST(level == "warn", line);
      BOOST_TEST(event.value("op", "") == "classify", line);
      BOOST_TEST(event.value("code", "") == "internal", line);
    }
  }
  BOOST_TEST(with_the_id == 1u, "one line for the failed request:\n" << node.process().output());
  BOOST_TEST(node.process().output().find("ready: serving") != std::string::npos, "the phrases stay");
}

BOOST_AUTO_TEST_CASE(an_unknown_log_format_is_a_usage_error) {
  test::child_process cli("log-format", {INFERMESH_BINARY, "node", "--log-format", "yaml"});
  BOOST_TEST(cli.wait_exit(stop_bound).value_or(-1) == 2);
  BOOST_TEST(cli.output().find("--log-format must be text or json") != std::string::npos, cli.output());
}

BOOST_AUTO_TEST_SUITE_END()
