// Garbage in: each kind gets a coded error reply naming the problem, and the node keeps serving.
#include <boost/test/unit_test.hpp>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

constexpr std::size_t node_max_payload = 256 * 1024;  // well under nats-server's 8 MB, so the node must refuse

struct bad_input_fixture {
  test::nats_server nats;
  test::node_process node{test::sample_classifier_config("", "  max_payload_bytes: " +
                                                                 std::to_string(node_max_payload) + "\n"),
                          nats.url()};
  test::client client{nats.url()};

  void expect(const reply& rep, const std::string& code, const std::string& mentions) {
    BOOST_TEST(!rep.ok);
    BOOST_REQUIRE(rep.failure.has_value());
    BOOST_TEST(test::code_of(rep) == code, "code for '" << mentions << "': " << test::message_of(rep));
    BOOST_TEST(test::message_of(rep).find(mentions) != std::string::npos,
               "'" << test::message_of(rep) << "' mentions '" << mentions << "'");
    BOOST_TEST(rep.op == "classify");
  }

  void still_serves() {
    auto rep = client.send("classify", test::image_request(test::sample_image("receipt.jpg")));
    BOOST_TEST(rep.ok);
  }
};

request with_image(const std::string& bytes) {
  request r;
  r.image = shared_bytes::copy_of(bytes);
  return r;
}

/// A PNG whose header claims 50000 x 50000 pixels (2.5 gigapixels) in 33 bytes.
std::string png_bomb() {
  std::string b("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\xc3\x50\x00\x00\xc3\x50\x08\x02\x00\x00\x00", 29);
  return b + std::string(4, '\0');
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(bad_input, bad_input_fixture)

BOOST_AUTO_TEST_CASE(malformed_payloads_are_bad_request) {
  expect(client.send_raw("classify", std::string("\x82\xa2id", 4)), "bad_request", "msgpack");
  expect(client.send_raw("classify", "{\"image\": "), "bad_request", "JSON");
  expect(client.send_raw("classify", "{\"a\":" + std::string(1000, '[') + std::string(1000, ']') + "}"),
         "bad_request", "nested");
  expect(client.send_raw("classify", encode_value(value_array{1, 2}, encoding::msgpack)), "bad_request", "map");
  still_serves();
}

BOOST_AUTO_TEST_CASE(missing_or_wrongly_typed_fields_are_bad_request_naming_the_field) {
  expect(client.send_raw("classify", R"({"id": "no-image"})"), "bad_request", "'image'");
  expect(client.send_raw("classify", encode_value(value_map{{"image", 12345}}, encoding::msgpack)), "bad_request",
         "'image'");
  auto req = test::image_request(test::sample_image("receipt.jpg"));
  auto json = encode_request(req, encoding::json);
  json.insert(1, R"("priority": "urgent", )");
  expect(client.send_raw("classify", json), "bad_request", "'priority'");
  json = encode_request(req, encoding::json);
  json.insert(1, R"("deadline_ms": -1, )");
  expect(client.send_raw("classify", json), "bad_request", "'deadline_ms'");
  still_serves();
}

BOOST_AUTO_TEST_CASE(an_empty_image_is_bad_request_and_non_images_are_unsupported_media) {
  expect(client.send_raw("classify", encode_value(value_map{{"image", shared_bytes()}}, encoding::msgpack)),
         "bad_request", "empty");
  expect(client.send_raw("classify", R"({"image": ""})"), "bad_request", "empty");
  expect(client.send("classify", with_image("%PDF-1.4 definitely not a document")), "unsupported_media", "PDF");
  expect(client.send("classify", with_image("GIF89a not supported")), "unsupported_media", "PNG, JPEG, TIFF or PDF");
  const auto png = test::read_file(test::sample_image("receipt.png"));
  expect(client.send("classify", with_image(png.substr(0, png.size() / 3))), "unsupported_media", "decoded");
  expect(client.send("classify", with_image(png.substr(0, 16))), "unsupported_media", "PNG");
  still_serves();
}

BOOST_AUTO_TEST_CASE(an_image_whose_header_claims_too_many_pixels_is_too_large) {
  expect(client.send("classify", with_image(png_bomb())), "too_large", "50000x50000");
  still_serves();
}

BOOST_AUTO_TEST_CASE(a_payload_over_the_node_limit_is_too_large) {
  expect(client.send("classify", with_image(std::string(node_max_payload + 1, 'x'))), "too_large", "payload");
  still_serves();
}

BOOST_AUTO_TEST_CASE(image_path_is_refused_while_no_roots_are_allowed) {
  request r;
  r.image_path = "/etc/hostname";
  expect(client.send("classify", r), "bad_request", "image_path");
  still_serves();
}

BOOST_AUTO_TEST_CASE(an_unknown_op_is_not_found_and_an_op_no_node_serves_is_unavailable) {
  auto req = test::image_request(test::sample_image("receipt.jpg"));
  auto unknown = client.send("frobnicate", req);
  BOOST_TEST(test::code_of(unknown) == "not_found");
  auto unserved = client.send("ocr", req, encoding::msgpack, std::chrono::seconds(5));
  BOOST_TEST(test::code_of(unserved) == "unavailable");
  BOOST_TEST(test::message_of(unserved).find(wire::op_subject("ocr")) != std::string::npos);
  still_serves();
}

BOOST_AUTO_TEST_CASE(a_request_without_a_reply_subject_is_dropped_without_harm) {
  auto payload = encode_request(test::image_request(test::sample_image("receipt.jpg")), encoding::msgpack);
  BOOST_TEST(!client.transport().publish(wire::op_subject("classify"), payload).has_value());
  still_serves();
}

BOOST_AUTO_TEST_SUITE_END()
