// Many clients at once: one reply per request, dynamic batches, fast overload, deadlines.
#include <boost/test/unit_test.hpp>

#include <map>
#include <set>
#include <thread>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

constexpr int concurrent_requests = 64;  // the bar
const std::vector<std::string> sample_types = {"invoice", "receipt", "id_card", "letter", "form"};

using test::code_of;
using test::message_of;

}  // namespace

BOOST_AUTO_TEST_SUITE(concurrency)

BOOST_AUTO_TEST_CASE(sixty_four_concurrent_requests_each_get_exactly_one_correct_reply_in_batches) {
  test::nats_server nats;
  test::node_process node(test::sample_classifier_config("max_batch_size: 8, max_queue_delay_us: 5000"), nats.url());
  test::client client(nats.url());
  const std::string inbox = "test.replies";
  test::reply_collector collector(client.transport(), inbox);

  std::map<std::string, std::string> expected;  // id -> doc type
  for (int i = 0; i < concurrent_requests; ++i) {
    const auto& type = sample_types[i % sample_types.size()];
    const auto id = "c" + std::to_string(i);
    expected[id] = type;
    auto payload = encode_request(test::image_request(test::sample_image(type + ".jpg"), id), encoding::msgpack);
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), payload, inbox));
  }
  BOOST_REQUIRE(collector.wait_for(concurrent_requests, 60s));
  // A duplicate would arrive right behind the others: give it a bounded chance to show up.
  BOOST_TEST(!collector.wait_for(concurrent_requests + 1, 500ms));

  std::set<std::string> seen;
  int largest_batch = 0;
  for (const auto& rep : collector.replies()) {
    BOOST_TEST(rep.ok, rep.id << ": " << message_of(rep));
    BOOST_TEST(seen.insert(rep.id).second, "duplicate reply for " << rep.id);
    BOOST_REQUIRE(expected.count(rep.id) == 1u);
    BOOST_TEST(*rep.result.find("doc_type")->get_if<std::string>() == expected[rep.id]);
    largest_batch = std::max(largest_batch, rep.time.batch_size);
  }
  BOOST_TEST(seen.size() == static_cast<std::size_t>(concurrent_requests));
  BOOST_TEST_MESSAGE("largest batch: " << largest_batch);
  BOOST_TEST(largest_batch > 1);
}

BOOST_AUTO_TEST_CASE(a_full_queue_answers_overloaded_without_waiting_for_the_model) {
  constexpr int model_latency_us = 300000;
  constexpr int requests = 16;
  test::nats_server nats;
  test::node_process node(test::synthetic_config(model_latency_us, "max_batch_size: 1, queue_capacity: 2"),
                          nats.url());
  test::client client(nats.url());
  test::reply_collector collector(client.transport(), "test.replies");
  const auto payload = encode_request(test::image_request(test::sample_image("id_card.jpg")), encoding::msgpack);
  for (int i = 0; i < requests; ++i)
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), payload, "test.replies"));
  BOOST_REQUIRE(collector.wait_for(requests, 60s));
  std::map<std::string, int> codes;
  for (const auto& rep : collector.replies()) {
    ++codes[code_of(rep)];
    if (!rep.ok) BOOST_TEST(rep.time.total_ms < model_latency_us / 1000.0, "an overloaded reply waited for the model");
  }
  BOOST_TEST(codes["overloaded"] > 0);
  BOOST_TEST(codes["ok"] >= 2);
  BOOST_TEST(codes["ok"] + codes["overloaded"] == requests);
}

BOOST_AUTO_TEST_CASE(a_request_whose_deadline_passes_in_the_queue_is_answered_deadline_exceeded) {
  constexpr int model_latency_us = 400000;
  test::nats_server nats;
  test::node_process node(test::synthetic_config(model_latency_us, "max_batch_size: 1"), nats.url());
  test::client client(nats.url());
  test::reply_collector collector(client.transport(), "test.replies");
  auto slow = test::image_request(test::sample_image("id_card.jpg"), "occupies-the-model");
  auto hurried = test::image_request(test::sample_image("id_card.jpg"), "hurried");
  hurried.deadline_ms = 50;
  BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), encode_request(slow, encoding::msgpack),
                                            "test.replies"));
  BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), encode_request(hurried, encoding::msgpack),
                                            "test.replies"));
  BOOST_REQUIRE(collector.wait_for(2, 30s));
  for (const auto& rep : collector.replies()) {
    if (rep.id == "hurried") BOOST_TEST(code_of(rep) == "deadline_exceeded");
    else BOOST_TEST(code_of(rep) == "ok");
  }
}

BOOST_AUTO_TEST_SUITE_END()
