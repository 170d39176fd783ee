#include <boost/test/unit_test.hpp>

#include "messages/request_fingerprint.hpp"

using namespace infermesh;

namespace {

/// A request with every answer-determining field set, so each can be changed on its own.
request full_request() {
  request r;
  r.id = "same";
  r.image = shared_bytes::copy_of("\x89PNG\r\n\x1a\n pixels");
  r.doc_type = "invoice";
  r.auto_rotate = true;
  r.max_pages = 3;
  r.rotation = 90;
  r.page_rotations = {90, 0};
  return r;
}

std::string difference(const request& a, const request& b) { return first_difference(fingerprint_of(a), fingerprint_of(b)); }

}  // namespace

BOOST_AUTO_TEST_SUITE(request_fingerprint_rule)

BOOST_AUTO_TEST_CASE(a_retry_or_forward_with_other_delivery_fields_is_the_same_request) {
  auto retry = full_request();
  retry.deadline_ms = 250;
  retry.priority = 7;
  retry.hops = 1;
  retry.reply_to = "_INBOX.other";
  retry.image = shared_bytes::copy_of(std::string(full_request().image.view()));  // equal bytes, another buffer
  BOOST_TEST(difference(full_request(), retry) == "");
}

BOOST_AUTO_TEST_CASE(each_field_that_changes_the_answer_makes_another_request_and_is_named) {
  const auto base = full_request();
  auto changed = [&](auto change) {
    auto r = full_request();
    change(r);
    return difference(base, r);
  };
  BOOST_TEST(changed([](request& r) { r.image = shared_bytes::copy_of("other bytes"); }) == "image");
  BOOST_TEST(changed([](request& r) { r.image_path = "/data/a.png"; }) == "image_path");
  BOOST_TEST(changed([](request& r) { r.doc_type.reset(); }) == "doc_type");
  BOOST_TEST(changed([](request& r) { r.auto_rotate = false; }) == "auto_rotate");
  BOOST_TEST(changed([](request& r) { r.max_pages = 4; }) == "max_pages");
  BOOST_TEST(changed([](request& r) { r.rotation = 180; }) == "rotation");
  BOOST_TEST(changed([](request& r) { r.page_rotations = {90}; }) == "page_rotations");
}

BOOST_AUTO_TEST_CASE(images_of_the_same_size_that_differ_in_their_last_byte_differ) {
  constexpr std::size_t megabytes = 4u << 20;  // a large scan: the whole image is hashed, not a prefix
  std::string pixels(megabytes, 'x');
  auto a = full_request(), b = full_request();
  a.image = shared_bytes::copy_of(pixels);
  pixels.back() = 'y';
  b.image = shared_bytes::copy_of(pixels);
  BOOST_TEST(difference(a, b) == "image");
}

BOOST_AUTO_TEST_SUITE_END()
