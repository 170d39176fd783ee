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

BOOST_AUTO_TEST_SUITE_END()
