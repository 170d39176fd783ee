// Probing an image's header: the JPEG scan count, refused before any decoder runs (issue 14: a progressive
// JPEG of thousands of empty scans kept a preprocessing worker busy for 24 s).

#include <boost/test/unit_test.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "models/image_preprocess.hpp"
#include "models/image_probe.hpp"

using namespace infermesh;

namespace {

/// A small progressive JPEG from OpenCV's encoder (libjpeg's standard progressive script).
std::string progressive_jpeg() {
  cv::Mat img(64, 64, CV_8UC3);
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(255));
  std::vector<std::uint8_t> out;
  BOOST_REQUIRE(cv::imencode(".jpg", img, out, {cv::IMWRITE_JPEG_PROGRESSIVE, 1}));
  return std::string(out.begin(), out.end());
}

/// Start-of-scan markers in `jpeg` (0xFF 0xDA never occurs inside entropy-coded data: a 0xFF there is
/// followed by 0x00 or a restart marker).
std::size_t scans_in(const std::string& jpeg) {
  std::size_t n = 0;
  for (auto at = jpeg.find("\xFF\xDA"); at != std::string::npos; at = jpeg.find("\xFF\xDA", at + 2)) ++n;
  return n;
}

/// `jpeg` with its last scan repeated until it has `scans` scans: the shape of a scan bomb (each scan costs
/// the decoder a pass over the whole image).
std::string with_scans(const std::string& jpeg, std::size_t scans) {
  const auto last = jpeg.rfind("\xFF\xDA");
  const auto end = jpeg.rfind("\xFF\xD9");
  std::string out = jpeg.substr(0, end);
  const std::string scan = jpeg.substr(last, end - last);
  for (std::size_t n = scans_in(jpeg); n < scans; ++n) out += scan;
  return out + "\xFF\xD9";
}

shared_bytes bytes(const std::string& s) { return shared_bytes::copy_of(s); }

}  // namespace

BOOST_AUTO_TEST_SUITE(image_probe)

BOOST_AUTO_TEST_CASE(a_progressive_jpeg_from_an_encoder_is_within_the_scan_limit) {
  const auto jpeg = progressive_jpeg();
  BOOST_TEST(scans_in(jpeg) > 1u);  // it is progressive
  BOOST_TEST(scans_in(jpeg) <= max_jpeg_scans);
  auto header = probe_image(bytes(jpeg));
  BOOST_REQUIRE_MESSAGE(header, (header ? "" : header.err().message));
  BOOST_TEST(header->width == 64u);
  BOOST_TEST(header->height == 64u);
}

BOOST_AUTO_TEST_CASE(a_jpeg_of_thousands_of_scans_is_refused_from_its_header_walk) {
  const auto bomb = bytes(with_scans(progressive_jpeg(), 3000));
  auto header = probe_image(bomb);
  BOOST_REQUIRE(!header);
  BOOST_TEST(to_string(header.err().code) == "too_large");
  BOOST_TEST(header.err().message.find("scans") != std::string::npos, header.err().message);
  // and so is every step that decodes it
  auto tensor = preprocess_image(bomb, input_spec{});
  BOOST_REQUIRE(!tensor);
  BOOST_TEST(to_string(tensor.err().code) == "too_large");
}

BOOST_AUTO_TEST_CASE(a_jpeg_exactly_at_the_scan_limit_is_still_probed) {
  const auto at_limit = bytes(with_scans(progressive_jpeg(), max_jpeg_scans));
  BOOST_TEST(static_cast<bool>(probe_image(at_limit)));
  BOOST_TEST(!probe_image(bytes(with_scans(progressive_jpeg(), max_jpeg_scans + 1))));
}

BOOST_AUTO_TEST_CASE(a_deadline_that_passed_stops_preprocessing_before_the_image_is_decoded) {
  auto late = preprocess_image(bytes(progressive_jpeg()), input_spec{}, 0,
                               std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
  BOOST_REQUIRE(!late);
  BOOST_TEST(to_string(late.err().code) == "deadline_exceeded");
}

BOOST_AUTO_TEST_SUITE_END()
