// classify through the public edge: a real nats-server, a real `infermesh node` process, the wire contract.
#include <boost/test/unit_test.hpp>

#include <numeric>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

struct classify_fixture {
  test::nats_server nats;
  test::node_process node{test::sample_classifier_config(), nats.url()};
  test::client client{nats.url()};
};

const std::vector<std::string> sample_types = {"invoice", "receipt", "id_card", "letter", "form"};

std::string doc_type(const reply& r) {
  const value* v = r.result.find("doc_type");
  return v != nullptr && v->get_if<std::string>() != nullptr ? *v->get_if<std::string>() : "";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(classify, classify_fixture)

BOOST_AUTO_TEST_CASE(classifies_each_bundled_sample_as_its_own_type) {
  for (const auto& type : sample_types) {
    auto rep = client.send("classify", test::image_request(test::sample_image(type + ".jpg")));
    BOOST_REQUIRE_MESSAGE(rep.ok, type << ": " << (rep.failure ? rep.failure->message : ""));
    BOOST_TEST(doc_type(rep) == type);
    double confidence = 0, total = 0;
    rep.result.find("confidence")->as_double(confidence);
    BOOST_TEST(confidence > 0.5);
    for (const auto& [label, p] : *rep.result.find("scores")->get_if<value_map>()) {
      double d = 0;
      p.as_double(d);
      total += d;
    }
    BOOST_TEST(total == 1.0, boost::test_tools::tolerance(1e-4));
  }
}

BOOST_AUTO_TEST_CASE(reads_png_as_well_as_jpeg) {
  auto rep = client.send("classify", test::image_request(test::sample_image("receipt.png")));
  BOOST_REQUIRE(rep.ok);
  BOOST_TEST(doc_type(rep) == "receipt");
}

BOOST_AUTO_TEST_CASE(answers_a_json_request_with_a_base64_image_in_json) {
  const auto payload = encode_request(test::image_request(test::sample_image("letter.jpg"), "j1"), encoding::json);
  BOOST_REQUIRE(payload.front() == '{');
  auto raw = client.transport().request(wire::op_subject("classify"), payload, std::chrono::seconds(30));
  BOOST_REQUIRE(raw);
  BOOST_TEST(raw->view().front() == '{');
  auto rep = decode_reply(*raw);
  BOOST_REQUIRE(rep);
  BOOST_TEST(rep->ok);
  BOOST_TEST(rep->id == "j1");
  BOOST_TEST(doc_type(*rep) == "letter");
}

BOOST_AUTO_TEST_CASE(echoes_the_client_id_and_names_the_node_model_and_timing) {
  auto rep = client.send("classify", test::image_request(test::sample_image("form.jpg"), "client-42"));
  BOOST_REQUIRE(rep.ok);
  BOOST_TEST(rep.id == "client-42");
  BOOST_TEST(rep.op == "classify");
  BOOST_TEST(rep.node == "node-t");
  BOOST_REQUIRE(rep.model.has_value());
  BOOST_TEST(rep.model->name == "doc-layout-sample");
  BOOST_TEST(rep.model->version == "1");
  BOOST_TEST((rep.models == std::vector<model_ref>{{"doc-layout-sample", "1"}}));
  BOOST_TEST(rep.time.compute_ms > 0);
  BOOST_TEST(rep.time.total_ms >= rep.time.compute_ms);
  BOOST_TEST(rep.time.batch_size >= 1);
}

BOOST_AUTO_TEST_CASE(the_cli_prints_the_label_and_exits_zero) {
  test::child_process cli("cli", {INFERMESH_BINARY, "request", "classify", test::sample_image("invoice.jpg"), "--nats",
                                  nats.url()});
  BOOST_TEST(cli.wait_exit(std::chrono::seconds(30)).value_or(-1) == 0);
  BOOST_TEST(cli.output().find(R"("doc_type":"invoice")") != std::string::npos, cli.output());
}

BOOST_AUTO_TEST_CASE(the_cli_exits_non_zero_on_an_error_reply) {
  const auto not_an_image = std::string(INFERMESH_SOURCE_DIR) + "/model-repository/sample-classifier/labels.txt";
  test::child_process cli("cli", {INFERMESH_BINARY, "request", "classify", not_an_image, "--json", "--nats",
                                  nats.url()});
  BOOST_TEST(cli.wait_exit(std::chrono::seconds(30)).value_or(-1) == 1);
  BOOST_TEST(cli.output().find("unsupported_media") != std::string::npos, cli.output());
}

BOOST_AUTO_TEST_SUITE_END()
