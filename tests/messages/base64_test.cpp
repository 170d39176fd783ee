#include <boost/test/unit_test.hpp>

#include "messages/base64.hpp"

using namespace infermesh;

namespace {
std::string encode(const std::string& s) {
  return base64_encode(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
}
std::optional<std::string> decode(const std::string& s) {
  auto d = base64_decode(s);
  if (!d) return std::nullopt;
  return std::string(d->begin(), d->end());
}
}  // namespace

BOOST_AUTO_TEST_SUITE(base64)

BOOST_AUTO_TEST_CASE(encodes_the_rfc_4648_test_vectors) {
  BOOST_TEST(encode("") == "");
  BOOST_TEST(encode("f") == "Zg==");
  BOOST_TEST(encode("fo") == "Zm8=");
  BOOST_TEST(encode("foo") == "Zm9v");
  BOOST_TEST(encode("foobar") == "Zm9vYmFy");
}

BOOST_AUTO_TEST_CASE(decodes_padded_and_unpadded_text) {
  BOOST_TEST(decode("Zm9vYmE=").value() == "fooba");
  BOOST_TEST(decode("Zm9vYmE").value() == "fooba");
  BOOST_TEST(decode("Zg==").value() == "f");
}

BOOST_AUTO_TEST_CASE(round_trips_every_byte_value) {
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  BOOST_TEST(decode(encode(all)).value() == all);
}

BOOST_AUTO_TEST_CASE(refuses_characters_outside_the_alphabet_and_impossible_lengths) {
  BOOST_TEST(!decode("Zm9v!").has_value());
  BOOST_TEST(!decode("Zm9vY").has_value());      // 5 chars: one leftover 6-bit group cannot encode a byte
  BOOST_TEST(!decode("Zm=v").has_value());       // padding in the middle
  BOOST_TEST(!decode("Zh==").has_value());       // non-zero bits in the padding
}

BOOST_AUTO_TEST_SUITE_END()
