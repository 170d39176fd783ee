#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <filesystem>

#include "models/document_pages.hpp"
#include "models/image_probe.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"
#include "support/pdf_writer.hpp"

using namespace infermesh;

namespace {

shared_bytes bytes(const std::string& s) { return shared_bytes::copy_of(s); }

std::vector<std::vector<std::string>> pages_of_text(int n) {
  std::vector<std::vector<std::string>> pages;
  for (int i = 0; i < n; ++i) pages.push_back({"Page " + std::to_string(i + 1)});
  return pages;
}

/// A multi-page TIFF written by OpenCV (its writer needs a file: tests may use one, the node never does).
std::string tiff_with_pages(int n) {
  std::vector<cv::Mat> pages;
  for (int i = 0; i < n; ++i) pages.push_back(cv::Mat(60 + 10 * i, 80, CV_8UC1, cv::Scalar(40 * i)));
  const auto dir = test::make_temp_dir("infermesh-tiff");
  const auto path = dir + "/pages.tiff";
  BOOST_REQUIRE(cv::imwritemulti(path, pages));
  auto out = test::read_file(path);
  std::filesystem::remove_all(dir);
  return out;
}


/// Appends `v` to `out` little-endian in `n` bytes.
void put_le(std::string& out, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

/// A grey, uncompressed, tiled TIFF of `image` x `image` pixels whose one tile is `tile` x `tile` (larger
/// than the image, as a hostile file's may be) and whose tile data is all there: a decoder that may allocate
/// the tile reads it fine. Written byte by byte (libtiff's writer needs a file).
std::string tiled_tiff(std::uint32_t image, std::uint32_t tile) {
  const std::uint64_t tile_bytes = std::uint64_t{tile} * tile;
  struct entry { std::uint16_t tag, type; std::uint32_t value; };
  const std::vector<entry> entries{{256, 4, image}, {257, 4, image}, {258, 3, 8},   {259, 3, 1},
                                   {262, 3, 1},     {277, 3, 1},     {322, 4, tile}, {323, 4, tile},
                                   {324, 4, 0},     {325, 4, static_cast<std::uint32_t>(tile_bytes)}};
  const std::uint32_t ifd_size = 2 + 12 * static_cast<std::uint32_t>(entries.size()) + 4;
  const std::uint32_t data_at = 8 + ifd_size;
  std::string out("II*\0", 4);
  put_le(out, 8, 4);
  put_le(out, entries.size(), 2);
  for (const auto& e : entries) {
    put_le(out, e.tag, 2);
    put_le(out, e.type, 2);
    put_le(out, 1, 4);
    put_le(out, e.tag == 324 ? data_at : e.value, 4);  // SHORT values sit in the low bytes (little-endian)
  }
  put_le(out, 0, 4);  // no next directory
  out.append(tile_bytes, '\x80');
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(document_pages)

BOOST_AUTO_TEST_CASE(an_image_is_its_own_only_page_untouched) {
  const auto jpeg = bytes(test::read_file(test::sample_image("receipt.jpg")));
  auto split = split_pages(jpeg, 10, {});
  BOOST_REQUIRE(split);
  BOOST_TEST(split->total_pages == 1);
  BOOST_TEST(split->pages.at(0).data() == jpeg.data());  // the same bytes, not a copy
  BOOST_TEST(!is_multi_page_format(jpeg));
}

BOOST_AUTO_TEST_CASE(a_pdf_becomes_grey_page_images_at_the_render_resolution_up_to_max_pages) {
  const auto pdf = bytes(test::make_pdf(pages_of_text(3)));
  BOOST_TEST(is_multi_page_format(pdf));
  document_limits limits;
  limits.dpi = 100;
  auto split = split_pages(pdf, 2, limits);
  BOOST_REQUIRE_MESSAGE(split, (split ? "" : split.err().message));
  BOOST_TEST(split->total_pages == 3);
  BOOST_REQUIRE(split->pages.size() == 2u);
  auto header = probe_image(split->pages[0]);
  BOOST_REQUIRE(header);
  BOOST_TEST((header->kind == image_header::format::pgm));
  BOOST_TEST(header->width == 850u);  // 8.5 in x 100 dpi
  BOOST_TEST(header->height == 1100u);
  const cv::Mat raw(1, static_cast<int>(split->pages[0].size()), CV_8U, const_cast<std::uint8_t*>(split->pages[0].data()));
  const cv::Mat page = cv::imdecode(raw, cv::IMREAD_GRAYSCALE);
  BOOST_TEST(page.cols == 850);
  double lo = 0, hi = 0;
  cv::minMaxLoc(page, &lo, &hi);
  BOOST_TEST(lo < 100);  // the text was drawn
  BOOST_TEST(hi > 200);  // on white paper
}

BOOST_AUTO_TEST_CASE(a_multi_page_tiff_gives_each_page) {
  const auto tiff = bytes(tiff_with_pages(3));
  BOOST_TEST(is_multi_page_format(tiff));
  auto split = split_pages(tiff, 10, {});
  BOOST_REQUIRE_MESSAGE(split, (split ? "" : split.err().message));
  BOOST_TEST(split->total_pages == 3);
  BOOST_REQUIRE(split->pages.size() == 3u);
  BOOST_TEST(probe_image(split->pages[2])->height == 80u);
}

BOOST_AUTO_TEST_CASE(hostile_documents_are_refused_with_coded_errors_before_big_allocations) {
  auto code_of = [](const std::string& doc, document_limits limits = {}) {
    auto split = split_pages(bytes(doc), 10, limits);
    return split ? std::string("ok") : to_string(split.err().code);
  };
  BOOST_TEST(code_of(test::make_pdf({})) == "unsupported_media");                           // no pages
  BOOST_TEST(code_of(test::make_pdf(pages_of_text(1), {612, 792, true})) == "unsupported_media");  // encrypted
  BOOST_TEST(code_of("%PDF-1.7\nthis is not a pdf at all") == "unsupported_media");
  const auto good = test::make_pdf(pages_of_text(2));
  BOOST_TEST(code_of(good.substr(0, good.size() / 2)) != "ok");                            // truncated
  document_limits few;
  few.max_document_pages = 50;
  BOOST_TEST(code_of(test::make_pdf(pages_of_text(51)), few) == "too_large");              // page bomb
  BOOST_TEST(code_of(test::make_pdf(pages_of_text(1), {14400, 14400, false})) == "too_large");  // 200 in square
  const auto tiff = tiff_with_pages(2);
  BOOST_TEST(code_of(tiff.substr(0, 40)) == "unsupported_media");
  BOOST_TEST(code_of(std::string("II*\0", 4)) == "unsupported_media");
  BOOST_TEST(!split_pages(bytes(good), 0, {}));  // max_pages 0 is a bad request
}

BOOST_AUTO_TEST_CASE(the_pages_of_one_request_share_one_pixel_budget_named_in_the_error) {
  // 5 Letter pages at 100 dpi are 850 x 1100 = 935,000 pixels each: a budget of 2,000,000 holds 2 of them.
  const auto pdf = bytes(test::make_pdf(pages_of_text(5)));
  document_limits limits;
  limits.dpi = 100;
  limits.max_request_pixels = 2'000'000;
  auto two = split_pages(pdf, 2, limits);
  BOOST_REQUIRE_MESSAGE(two, (two ? "" : two.err().message));
  BOOST_TEST(two->pages.size() == 2u);
  BOOST_TEST(two->pixels >= 2u * 850u * 1100u);
  BOOST_TEST(two->pixels <= limits.max_request_pixels);
  auto all = split_pages(pdf, 5, limits);
  BOOST_REQUIRE(!all);
  BOOST_TEST(to_string(all.err().code) == "too_large");
  BOOST_TEST(all.err().message.find("node.max_document_pixels") != std::string::npos, all.err().message);
  BOOST_TEST(all.err().message.find("pages 1-3") != std::string::npos, all.err().message);
}

BOOST_AUTO_TEST_CASE(a_tiff_of_many_small_pages_is_bounded_by_the_request_budget_not_only_per_page) {
  // tiff_with_pages(n): page i is 80 x (60 + 10 i) pixels; 20 pages are 80 x 3,100 = 248,000 pixels together.
  const auto tiff = bytes(tiff_with_pages(20));
  document_limits limits;
  limits.max_pixels = 100'000;           // every page alone is far below it
  limits.max_request_pixels = 100'000;   // but not all of them together
  auto split = split_pages(tiff, 20, limits);
  BOOST_REQUIRE(!split);
  BOOST_TEST(to_string(split.err().code) == "too_large");
  limits.max_request_pixels = 248'000;
  auto fits = split_pages(tiff, 20, limits);
  BOOST_REQUIRE_MESSAGE(fits, (fits ? "" : fits.err().message));
  BOOST_TEST(fits->pixels == 248'000u);
}

BOOST_AUTO_TEST_CASE(a_tiff_tile_larger_than_libtiffs_allocation_cap_is_refused_not_allocated) {
  // With max_pixels 1,000,000 the cap is its floor, 16 MiB: a 4608 x 4608 tile (21 MB) is over it, although
  // the image is only 100 x 100 and the tile's bytes are all in the file (without the cap it decodes).
  document_limits limits;
  limits.max_pixels = 1'000'000;
  BOOST_TEST(tiff_max_single_alloc(limits) == std::uint64_t{16} << 20);
  auto refused = split_pages(bytes(tiled_tiff(100, 4608)), 1, limits);
  BOOST_REQUIRE(!refused);
  BOOST_TEST(to_string(refused.err().code) == "unsupported_media");
  // The same layout with a tile within the cap (2048 x 2048 = 4 MiB) is read.
  auto read = split_pages(bytes(tiled_tiff(100, 2048)), 1, limits);
  BOOST_REQUIRE_MESSAGE(read, (read ? "" : read.err().message));
  BOOST_TEST(probe_image(read->pages.at(0))->width == 100u);
}

BOOST_AUTO_TEST_CASE(a_deadline_that_passed_stops_the_split_before_a_page_is_rendered) {
  const auto pdf = bytes(test::make_pdf(pages_of_text(3)));
  auto late = split_pages(pdf, 3, {}, std::chrono::steady_clock::now() - std::chrono::milliseconds(1));
  BOOST_REQUIRE(!late);
  BOOST_TEST(to_string(late.err().code) == "deadline_exceeded");
}

BOOST_AUTO_TEST_SUITE_END()
