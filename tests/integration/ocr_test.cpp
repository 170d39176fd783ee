// ocr through the public edge: a node that hosts the classifier and a Tesseract pool.
#include <boost/test/unit_test.hpp>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

struct ocr_fixture {
  test::nats_server nats;
  test::node_process node{test::sample_classifier_config("", "", "", "") + test::ocr_model_yaml(), nats.url()};
  test::client client{nats.url()};
};

/// OCR of a full page takes seconds (more on a loaded CI machine or under sanitizers): a generous deadline.
request document_request(const std::string& file) {
  auto req = test::image_request(std::string(INFERMESH_SOURCE_DIR) + "/samples/" + file);
  req.deadline_ms = 120000;
  return req;
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
  BOOST_REQUIRE_MESSAGE(rep.ok, (rep.failure ? test::message_of(rep) : ""));
  BOOST_TEST(*rep.result.find("total_pages")->get_if<std::int64_t>() == 1);
  BOOST_TEST(text_of(rep).find("938.092.752-55") != std::string::npos, text_of(rep));
  value page{first_page(rep)};
  const value* rotation = page.find("rotation");
  BOOST_REQUIRE(rotation != nullptr);
  BOOST_TEST(*rotation->find("degrees")->get_if<std::int64_t>() == 270);
  BOOST_TEST(*rotation->find("corrected")->get_if<bool>());
  BOOST_REQUIRE(rep.model.has_value());
  BOOST_TEST(rep.model->name == "tesseract-eng");
}

BOOST_AUTO_TEST_CASE(answers_json_in_json_and_keeps_classify_serving_on_the_same_node) {
  const auto payload = encode_request(document_request("invoice-upright.jpg"), encoding::json);
  auto raw = client.transport().request(wire::op_subject("ocr"), payload, std::chrono::seconds(60));
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
  bad.deadline_ms = 120000;
  auto rep = client.send("ocr", bad);
  BOOST_REQUIRE(rep.failure.has_value());
  BOOST_TEST(test::code_of(rep) == "unsupported_media");
  BOOST_TEST(client.send("ocr", document_request("receipt-upright.jpg")).ok);
}

BOOST_AUTO_TEST_CASE(extract_reads_the_fields_of_a_rotated_id_card_and_validates_its_cpf) {
  auto req = document_request("id-card-rotated-90.jpg");
  req.doc_type = "id_card";
  auto rep = client.send("extract", req);
  BOOST_REQUIRE_MESSAGE(rep.ok, (rep.failure ? test::message_of(rep) : ""));
  const value* fields = rep.result.find("fields");
  BOOST_TEST(*fields->find("name")->get_if<std::string>() == "LUCAS ALVES ALMEIDA");
  BOOST_TEST(*fields->find("birth_date")->get_if<std::string>() == "1998-03-20");
  BOOST_TEST(*fields->find("id_number")->get_if<std::string>() == "938.092.752-55");
  BOOST_TEST(*rep.result.find("valid")->find("id_number")->get_if<bool>());
}

BOOST_AUTO_TEST_CASE(extract_needs_a_known_doc_type) {
  auto req = document_request("receipt-upright.jpg");
  auto missing = client.send("extract", req);
  BOOST_TEST(test::code_of(missing) == "bad_request");
  BOOST_TEST(test::message_of(missing).find("doc_type") != std::string::npos);
  req.doc_type = "passport";
  auto unknown = client.send("extract", req);
  BOOST_TEST(test::code_of(unknown) == "not_found");
}

BOOST_AUTO_TEST_CASE(classify_corrects_the_orientation_first_and_reports_it) {
  auto rep = client.send("classify", document_request("id-card-rotated-90.jpg"));
  BOOST_REQUIRE(rep.ok);
  const value* rotation = rep.result.find("rotation");
  BOOST_REQUIRE(rotation != nullptr);
  BOOST_TEST(*rotation->find("degrees")->get_if<std::int64_t>() == 270);
  BOOST_TEST(*rotation->find("corrected")->get_if<bool>());
  auto req = document_request("id-card-rotated-90.jpg");
  req.auto_rotate = false;
  auto unrotated = client.send("classify", req);
  BOOST_REQUIRE(unrotated.ok);
  BOOST_TEST(unrotated.result.find("rotation") == nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
