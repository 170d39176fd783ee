// ocr through the public edge: a node that hosts the classifier and a Tesseract pool.
#include <boost/test/unit_test.hpp>

#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

struct ocr_fixture {
  test::nats_server nats;
  test::node_process node{test::sample_classifier_config() + test::ocr_model_yaml(), nats.url()};
  test::client client{nats.url()};
};

request document_request(const std::string& file) {
  return test::image_request(std::string(INFERMESH_SOURCE_DIR) + "/models/samples/" + file);
}

const value_map& first_page(const reply& rep) {
  return *(*rep.result.find("pages")->get_if<value_array>()).at(0).get_if<value_map>();
}

std::string text_of(const reply& rep) {
  for (const auto& [k, v] : first_page(rep))
    if (k == "text") return *v.get_if<std::string>();
  return "";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(ocr, ocr_fixture)

BOOST_AUTO_TEST_CASE(reads_a_rotated_card_upright_and_reports_the_rotation) {
  auto rep = client.send("ocr", document_request("id-card-rotated-90.jpg"));
  BOOST_REQUIRE_MESSAGE(rep.ok, (rep.failure ? rep.failure->message : ""));
  BOOST_TEST(*rep.result.find("total_pages")->get_if<std::int64_t>() == 1);
  BOOST_TEST(text_of(rep).find("938.092.752-55") != std::string::npos, text_of(rep));
  value page{first_page(rep)};
  const value* rotation = page.find("rotation");
  BOOST_REQUIRE(rotation != nullptr);
  BOOST_TEST(*rotation->find("degrees")->get_if<std::int64_t>() == 270);
  BOOST_TEST(*rotation->find("corrected")->get_if<bool>());
  BOOST_TEST(rep.models.at(0).name == "tesseract-eng");
}

BOOST_AUTO_TEST_CASE(answers_json_in_json_and_keeps_classify_serving_on_the_same_node) {
  const auto payload = encode_request(document_request("invoice-upright.jpg"), encoding::json);
  auto raw = client.transport().request("infermesh.v1.ocr", payload, std::chrono::seconds(60));
  BOOST_REQUIRE(raw);
  BOOST_TEST(raw->view().front() == '{');
  auto rep = decode_reply(*raw);
  BOOST_REQUIRE(rep);
  BOOST_TEST(rep->ok);
  BOOST_TEST(text_of(*rep).find("2365.87") != std::string::npos);
  auto classified = client.send("classify", test::image_request(test::sample_image("receipt.jpg")));
  BOOST_TEST(classified.ok);
}

BOOST_AUTO_TEST_CASE(garbage_is_unsupported_media_and_the_node_keeps_reading) {
  request bad;
  bad.image = shared_bytes::copy_of("GIF89a not really");
  auto rep = client.send("ocr", bad);
  BOOST_REQUIRE(rep.failure.has_value());
  BOOST_TEST(to_string(rep.failure->code) == "unsupported_media");
  BOOST_TEST(client.send("ocr", document_request("receipt-upright.jpg")).ok);
}

BOOST_AUTO_TEST_SUITE_END()
