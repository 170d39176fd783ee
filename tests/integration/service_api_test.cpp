// The NATS service API (ADR-32): real nodes answer `$SRV.PING|INFO|STATS` in every form, every answer valid
// against the schemas in tests/schemas/ (python3-jsonschema), every node answers one PING, STATS counts what
// the router answered, and bad input gets an error reply, never a crash.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <set>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"
#include "support/service_discovery.hpp"

using namespace infermesh;
using namespace std::chrono_literals;
using json = nlohmann::json;

namespace {

/// How long a test gathers answers: a node answers in milliseconds; the window must also hold a STATS answer
/// that waited for its actors (at most 250 ms on the node).
constexpr auto gather_window = 1500ms;
/// A synthetic model this fast keeps the node's start-up and the requests short.
constexpr int model_latency_us = 1000;

std::string node_config() { return test::synthetic_config(model_latency_us, "max_batch_size: 4"); }

std::vector<json> parsed(const std::vector<std::string>& bodies) {
  std::vector<json> out;
  for (const auto& b : bodies) out.push_back(json::parse(b));
  return out;
}

struct one_node {
  test::nats_server nats;
  test::node_process node{node_config(), nats.url(), "srv-a"};
  test::client client{nats.url()};

  std::vector<std::string> ask(const std::string& subject, const std::string& payload = "") {
    return test::gather_answers(client.transport(), subject, gather_window, payload);
  }
  std::string id() {
    auto pings = ask(wire::service_subject("PING"));
    BOOST_REQUIRE_EQUAL(pings.size(), 1u);
    return json::parse(pings.front()).at("id").get<std::string>();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(service_api)

BOOST_FIXTURE_TEST_CASE(every_verb_answers_in_all_three_forms_as_adr_32_defines, one_node) {
  const auto instance = id();
  const std::map<std::string, std::string> schema_of{
      {"PING", "ping_response"}, {"INFO", "info_response"}, {"STATS", "stats_response"}};
  for (const auto& [verb, schema] : schema_of) {
    for (const auto& subject : {wire::service_subject(verb), wire::service_subject(verb, wire::service_name),
                                wire::service_subject(verb, wire::service_name, instance)}) {
      const auto answers = ask(subject);
      BOOST_TEST_REQUIRE(answers.size() == 1u, subject << ": " << answers.size() << " answers");
      BOOST_TEST(test::schema_problems(schema, answers) == "", subject);
      const auto j = json::parse(answers.front());
      BOOST_TEST(j.at("name") == "infermesh");
      BOOST_TEST(j.at("id") == instance);
      BOOST_TEST(j.at("version") == "0.1.0");
      BOOST_TEST(j.at("metadata").at("node") == "srv-a");
      BOOST_TEST(j.at("metadata").at("models") == "synthetic@1=healthy");
      BOOST_TEST(!j.at("metadata").at("host").get<std::string>().empty());
    }
  }
  // One endpoint per op the node serves: classify, and process (its default pipeline has a classify step).
  const auto info = json::parse(ask(wire::service_subject("INFO")).front());
  std::set<std::string> ops;
  for (const auto& e : info.at("endpoints")) {
    ops.insert(e.at("name").get<std::string>());
    BOOST_TEST(e.at("subject") == wire::op_subject(e.at("name").get<std::string>()));
    BOOST_TEST(e.at("queue_group") == std::string(wire::queue_group));
  }
  BOOST_TEST((ops == std::set<std::string>{"classify", "process"}));
}

BOOST_FIXTURE_TEST_CASE(another_instance_id_gets_no_answer, one_node) {
  for (const auto& subject :
       {wire::service_subject("PING", wire::service_name, "not-this-node"), wire::service_subject("PING", "other-service")}) {
    const auto answers = ask(subject);
    BOOST_TEST(answers.empty(), subject << ": " << (answers.empty() ? "" : answers.front()));
  }
}

BOOST_FIXTURE_TEST_CASE(stats_count_the_answers_and_errors_of_each_op, one_node) {
  constexpr int ok_requests = 3;  // and one that cannot decode: an error answered by the router
  for (int i = 0; i < ok_requests; ++i) {
    auto rep = client.send("classify", test::image_request(test::sample_image("receipt.png")));
    BOOST_TEST_REQUIRE(rep.ok, test::message_of(rep));
  }
  auto bad = client.send_raw("classify", "this is not a request");
  BOOST_TEST_REQUIRE(!bad.ok);
  const auto answers = ask(wire::service_subject("STATS", wire::service_name));
  BOOST_TEST_REQUIRE(answers.size() == 1u);
  BOOST_TEST(test::schema_problems("stats_response", answers) == "");
  const auto stats = json::parse(answers.front());
  json e;
  for (const auto& endpoint : stats.at("endpoints"))
    if (endpoint.at("name") == "classify") e = endpoint;
  BOOST_TEST_REQUIRE(e.is_object(), stats.dump());
  BOOST_TEST(e.at("num_requests") == ok_requests + 1);
  BOOST_TEST(e.at("num_errors") == 1);
  BOOST_TEST(e.at("last_error").get<std::string>().find("bad_request") != std::string::npos, e.dump());
  BOOST_TEST(e.at("average_processing_time").get<std::uint64_t>() > 0u);
  BOOST_TEST(e.at("processing_time").get<std::uint64_t>() >= e.at("average_processing_time").get<std::uint64_t>());
  const auto& model = e.at("data").at("models").at(0);
  BOOST_TEST(model.at("name") == "synthetic");
  BOOST_TEST(model.at("state") == "serving");
  BOOST_TEST(model.at("requests") == ok_requests);
  BOOST_TEST(model.at("batches").get<int>() >= 1);
}

BOOST_FIXTURE_TEST_CASE(bad_input_gets_an_error_reply_and_the_node_keeps_answering, one_node) {
  const auto unknown = ask("$SRV.REBOOT.infermesh", "{\"please\": true}");
  BOOST_TEST_REQUIRE(unknown.size() == 1u);
  BOOST_TEST(json::parse(unknown.front()).at("error").get<std::string>().find("REBOOT") != std::string::npos);
  // A payload is ignored (ADR-32): garbage still gets a valid PING.
  const auto garbage = ask(wire::service_subject("PING"), std::string("\xff\x00\x01not json", 12));
  BOOST_TEST_REQUIRE(garbage.size() == 1u);
  BOOST_TEST(test::schema_problems("ping_response", garbage) == "");
  // Nobody to answer: dropped, and the node is still there.
  BOOST_TEST(!client.transport().publish(wire::service_subject("STATS"), "x"));
  BOOST_TEST(ask(wire::service_subject("INFO")).size() == 1u);
  BOOST_TEST(node.stop_problem(30s) == "");
}

BOOST_AUTO_TEST_CASE(every_node_answers_one_ping_and_an_id_reaches_only_its_node) {
  test::nats_server nats;
  test::node_process a{node_config(), nats.url(), "srv-a"};
  test::node_process b{node_config(), nats.url(), "srv-b"};
  test::client client{nats.url()};
  const auto answers = test::gather_answers(client.transport(), wire::service_subject("PING"), gather_window);
  BOOST_TEST_REQUIRE(answers.size() == 2u);
  BOOST_TEST(test::schema_problems("ping_response", answers) == "");
  std::set<std::string> nodes, ids;
  for (const auto& j : parsed(answers)) {
    nodes.insert(j.at("metadata").at("node").get<std::string>());
    ids.insert(j.at("id").get<std::string>());
  }
  BOOST_TEST((nodes == std::set<std::string>{"srv-a", "srv-b"}));
  BOOST_TEST(ids.size() == 2u);
  const auto first = *ids.begin();
  const auto one = test::gather_answers(client.transport(), wire::service_subject("STATS", wire::service_name, first),
                                        gather_window);
  BOOST_TEST_REQUIRE(one.size() == 1u);
  BOOST_TEST(json::parse(one.front()).at("id") == first);
  // A plain request gets the first answer.
  auto plain = client.transport().request(wire::service_subject("INFO", wire::service_name), "", 5s);
  BOOST_TEST_REQUIRE(static_cast<bool>(plain));
  BOOST_TEST(test::schema_problems("info_response", {std::string(plain->view())}) == "");
}

BOOST_AUTO_TEST_SUITE_END()
