// The JetStream work queue of the NATS seam (runtime/nats_jetstream.cpp) against a real nats-server with
// JetStream: the subjects a work queue is configured with are the ones published to and pulled from.
#include <boost/test/unit_test.hpp>

#include <chrono>

#include "messages/subjects.hpp"
#include "runtime/nats_transport.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(nats_jetstream)

BOOST_AUTO_TEST_CASE(the_default_work_queue_uses_the_wires_subjects) {
  const work_queue_options defaults;
  BOOST_TEST(defaults.stream == std::string(wire::work_queue_stream));
  BOOST_TEST(defaults.subjects == std::string(wire::work_queue_subjects));
  for (auto op : wire::ops) BOOST_TEST(*defaults.op_subject(std::string(op)) == wire::durable_subject(op));
}

BOOST_AUTO_TEST_CASE(a_work_queue_with_other_subjects_is_pulled_from_those) {
  test::nats_server server(true);
  auto transport = test::connect_client({server.url()});
  work_queue_options queue;
  queue.stream = "OTHER";
  queue.subjects = "tenant-7.jobs.>";
  BOOST_REQUIRE(!transport->ensure_work_queue(queue));
  test::progress pulled;
  std::string payload_seen;
  auto e = transport->pull("classify", queue, [&](durable_message&& m) {
    payload_seen = std::string(m.payload.view());
    m.ack();
    pulled.set(1);
  });
  BOOST_REQUIRE_MESSAGE(!e, (e ? e->message : ""));
  // Published to the configured subjects (the default ones are not captured by this stream at all).
  BOOST_REQUIRE(!transport->publish_durable("tenant-7.jobs.classify", "job-1", "id-1", 5s));
  BOOST_TEST(pulled.wait_for(1, 10s));
  BOOST_TEST(payload_seen == "job-1");
  transport->stop_pulling();
}

BOOST_AUTO_TEST_CASE(work_queue_subjects_without_one_subject_per_op_are_refused_naming_the_option) {
  test::nats_server server(true);
  auto transport = test::connect_client({server.url()});
  for (const std::string subjects : {"tenant-7.jobs", "tenant-7.*.>", ">"}) {
    work_queue_options queue;
    queue.subjects = subjects;
    BOOST_TEST(!queue.op_subject("classify"));
    auto refused = transport->ensure_work_queue(queue);
    BOOST_REQUIRE(refused);
    BOOST_TEST((refused->code == error_code::bad_request));
    BOOST_TEST(refused->message.find("work_queue_options.subjects") != std::string::npos, refused->message);
    auto not_pulled = transport->pull("classify", queue, [](durable_message&&) {});
    BOOST_REQUIRE(not_pulled);
    BOOST_TEST(not_pulled->message.find("work_queue_options.subjects") != std::string::npos, not_pulled->message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
