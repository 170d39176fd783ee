#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include "models/image_preprocess.hpp"
#include "models/image_probe.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

shared_bytes encode(const cv::Mat& img, const std::string& ext) {
  std::vector<std::uint8_t> buf;
  BOOST_REQUIRE(cv::imencode(ext, img, buf));
  return shared_bytes::from_vector(std::move(buf));
}

input_spec small_spec() {
  input_spec s;
  s.width = 4;
  s.height = 2;
  s.mean = {0.5f, 0.5f, 0.5f};
  s.stddev = {0.5f, 0.5f, 0.5f};
  return s;
}

/// A PNG whose IHDR claims `w` x `h` and that has no pixel data at all.
shared_bytes png_header_only(std::uint32_t w, std::uint32_t h) {
  std::string b("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", 16);
  for (auto v : {w, h})
    for (int shift = 24; shift >= 0; shift -= 8) b += static_cast<char>((v >> shift) & 0xFF);
  b += std::string("\x08\x02\x00\x00\x00\x00\x00\x00\x00", 9);
  return shared_bytes::copy_of(b);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(image_preprocess)

BOOST_AUTO_TEST_CASE(probes_png_and_jpeg_sizes_from_the_header) {
  cv::Mat img(37, 53, CV_8UC3, cv::Scalar(10, 20, 30));
  for (const char* ext : {".png", ".jpg"}) {
    auto h = probe_image(encode(img, ext));
    BOOST_REQUIRE(h);
    BOOST_TEST(h->width == 53u);
    BOOST_TEST(h->height == 37u);
  }
}

BOOST_AUTO_TEST_CASE(refuses_formats_other_than_png_and_jpeg_as_unsupported_media) {
  cv::Mat img(8, 8, CV_8UC3, cv::Scalar(0, 0, 0));
  auto bmp = preprocess_image(encode(img, ".bmp"), small_spec());
  BOOST_REQUIRE(!bmp);
  BOOST_TEST(to_string(bmp.err().code) == "unsupported_media");
  BOOST_TEST(!preprocess_image(shared_bytes::copy_of("GIF89a...."), small_spec()));
}

BOOST_AUTO_TEST_CASE(refuses_a_decompression_bomb_from_its_header_alone) {
  auto r = preprocess_image(png_header_only(100000, 100000), small_spec());
  BOOST_REQUIRE(!r);
  BOOST_TEST(to_string(r.err().code) == "too_large");
  BOOST_TEST(r.err().message.find("100000x100000") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(answers_truncated_and_zero_sized_images_with_unsupported_media) {
  const auto jpeg = test::read_file(test::sample_image("receipt.jpg"));
  for (auto cut : {std::size_t{3}, std::size_t{20}, jpeg.size() / 50}) {
    auto r = preprocess_image(shared_bytes::copy_of(jpeg.substr(0, cut)), small_spec());
    BOOST_TEST(!r);
    if (!r) BOOST_TEST(to_string(r.err().code) == "unsupported_media");
  }
  auto zero = preprocess_image(png_header_only(0, 10), small_spec());
  BOOST_TEST(!zero);
}

BOOST_AUTO_TEST_CASE(normalises_in_rgb_order_and_lays_out_channels_first) {
  // A uniform BGR image (b=0, g=127.5ish, r=255): after RGB conversion channel 0 is red.
  cv::Mat img(6, 10, CV_8UC3, cv::Scalar(0, 51, 255));
  auto r = preprocess_image(encode(img, ".png"), small_spec());
  BOOST_REQUIRE(r);
  const auto spec = small_spec();
  BOOST_REQUIRE(r->size() == spec.tensor_size());
  const std::size_t plane = 8;
  const float red = (255.0f / 255.0f - 0.5f) / 0.5f, green = (51.0f / 255.0f - 0.5f) / 0.5f, blue = -1.0f;
  for (std::size_t i = 0; i < plane; ++i) {
    BOOST_TEST((*r)[i] == red);
    BOOST_TEST((*r)[plane + i] == green);
    BOOST_TEST((*r)[2 * plane + i] == blue);
  }
  auto spec_bgr = spec;
  spec_bgr.color = input_spec::color_order::bgr;
  auto b = preprocess_image(encode(img, ".png"), spec_bgr);
  BOOST_REQUIRE(b);
  BOOST_TEST((*b)[0] == blue);
}

BOOST_AUTO_TEST_CASE(decodes_grey_and_alpha_images_to_three_channels) {
  cv::Mat grey(5, 5, CV_8UC1, cv::Scalar(128));
  cv::Mat rgba(5, 5, CV_8UC4, cv::Scalar(1, 2, 3, 4));
  BOOST_TEST(bool(preprocess_image(encode(grey, ".png"), small_spec())));
  BOOST_TEST(bool(preprocess_image(encode(rgba, ".png"), small_spec())));
}

BOOST_AUTO_TEST_CASE(fast_jpeg_decoding_reduces_a_jpeg_only_while_it_still_covers_the_input) {
  cv::Mat big(1024, 1024, CV_8UC3), small(200, 200, CV_8UC3);
  cv::randu(big, 0, 255);
  cv::randu(small, 0, 255);
  input_spec full;
  full.width = full.height = 128;
  input_spec fast = full;
  fast.fast_jpeg_decode = true;
  auto big_full = preprocess_image(encode(big, ".jpg"), full), big_fast = preprocess_image(encode(big, ".jpg"), fast);
  BOOST_REQUIRE(big_full);
  BOOST_REQUIRE(big_fast);
  BOOST_TEST(*big_full != *big_fast);  // decoded at 1/8 scale (128 x 128), so the pixels differ
  // 200 / 2 < 128: a reduced decode would not cover the input, so both decode in full.
  BOOST_TEST(*preprocess_image(encode(small, ".jpg"), full) == *preprocess_image(encode(small, ".jpg"), fast));
  // PNG has no reduced decoding.
  BOOST_TEST(*preprocess_image(encode(big, ".png"), full) == *preprocess_image(encode(big, ".png"), fast));
}

BOOST_AUTO_TEST_SUITE_END()
