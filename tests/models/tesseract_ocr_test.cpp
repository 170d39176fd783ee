#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include "models/tesseract_ocr.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

/// A rendered document of samples/ (ground truth in samples/truth.json).
shared_bytes document(const std::string& file) {
  return shared_bytes::copy_of(test::read_file(std::string(INFERMESH_SOURCE_DIR) + "/samples/" + file));
}

struct engine_fixture {
  std::unique_ptr<tesseract_ocr> engine;
  engine_fixture() {
    auto e = tesseract_ocr::create({});
    BOOST_REQUIRE_MESSAGE(e, (e ? "" : e.err().message));
    engine = std::move(*e);
  }
  ocr_page read(const std::string& file, bool auto_rotate = true) {
    auto page = engine->read(document(file), -1, auto_rotate);
    BOOST_REQUIRE_MESSAGE(page, (page ? "" : page.err().message));
    return *page;
  }
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(tesseract_ocr_suite, engine_fixture)

BOOST_AUTO_TEST_CASE(reads_an_upright_invoice_with_its_number_date_and_total) {
  auto page = read("invoice-upright.jpg");
  BOOST_TEST(page.rotation.degrees == 0);
  BOOST_TEST(!page.rotation.corrected);
  BOOST_TEST(contains(page.text, "FT 2026-62360"), page.text);
  BOOST_TEST(contains(page.text, "2365.87"), page.text);
  BOOST_TEST(page.confidence > 0.5);
}

BOOST_AUTO_TEST_CASE(detects_and_corrects_a_page_turned_a_quarter_counter_clockwise) {
  auto page = read("id-card-rotated-90.jpg");
  BOOST_TEST(page.rotation.degrees == 270);  // turned 90 counter-clockwise = 270 clockwise from upright
  BOOST_TEST(page.rotation.corrected);
  BOOST_TEST(contains(page.text, "LUCAS ALVES ALMEIDA"), page.text);
  BOOST_TEST(contains(page.text, "938.092.752-55"), page.text);
}

BOOST_AUTO_TEST_CASE(detects_and_corrects_an_upside_down_page) {
  auto page = read("letter-rotated-180.jpg");
  BOOST_TEST(page.rotation.degrees == 180);
  BOOST_TEST(contains(page.text, "Yara Lima Rodrigues"), page.text);
}

BOOST_AUTO_TEST_CASE(leaves_the_page_as_it_is_without_auto_rotate) {
  auto page = read("id-card-rotated-90.jpg", false);
  BOOST_TEST(page.rotation.degrees == 0);
  BOOST_TEST(!page.rotation.corrected);
  BOOST_TEST(!contains(page.text, "938.092.752-55"));
}

BOOST_AUTO_TEST_CASE(answers_a_blank_page_with_no_text_and_garbage_with_coded_errors) {
  std::vector<std::uint8_t> png;
  cv::imencode(".png", cv::Mat(400, 300, CV_8UC1, cv::Scalar(255)), png);
  auto blank = engine->read(shared_bytes::from_vector(std::move(png)), -1, true);
  BOOST_REQUIRE(blank);
  BOOST_TEST(blank->text.find_first_not_of(" \n") == std::string::npos);
  auto garbage = engine->read(shared_bytes::copy_of("not an image at all"), -1, true);
  BOOST_REQUIRE(!garbage);
  BOOST_TEST(to_string(garbage.err().code) == "unsupported_media");
}

BOOST_AUTO_TEST_CASE(refuses_pages_over_the_pixel_limit_before_decoding) {
  ocr_config small;
  small.max_pixels = 1000;
  auto e = tesseract_ocr::create(small);
  BOOST_REQUIRE(e);
  auto page = (*e)->read(document("receipt-upright.jpg"), -1, true);
  BOOST_REQUIRE(!page);
  BOOST_TEST(to_string(page.err().code) == "too_large");
}

BOOST_AUTO_TEST_CASE(missing_language_data_is_not_found_naming_the_file) {
  ocr_config c;
  c.language = "klingon";
  auto e = tesseract_ocr::create(c);
  BOOST_REQUIRE(!e);
  BOOST_TEST(contains(e.err().message, "klingon.traineddata"));
}

BOOST_AUTO_TEST_CASE(recognition_stops_when_the_deadline_passes_not_when_the_page_is_done) {
  // The same page read in full, then with a deadline at a fifth of that time: Tesseract's monitor cancels it
  // between words, so the answer comes well before a full read would have (ratios of one run, not fixed times).
  using clock_type = std::chrono::steady_clock;
  const auto page = document("invoice-upright.jpg");
  const auto t0 = clock_type::now();
  BOOST_REQUIRE(engine->read(page, 0, false));  // known upright: one recognition pass
  const auto full = clock_type::now() - t0;
  const auto t1 = clock_type::now();
  auto cut = engine->read(page, 0, false, t1 + full / 5);
  const auto took = clock_type::now() - t1;
  BOOST_REQUIRE(!cut);
  BOOST_TEST(to_string(cut.err().code) == "deadline_exceeded", cut.err().message);
  const double took_ms = std::chrono::duration<double, std::milli>(took).count();
  const double full_ms = std::chrono::duration<double, std::milli>(full).count();
  BOOST_TEST(took_ms < full_ms * 0.7, "cancelled after " << took_ms << " ms of a " << full_ms << " ms read");
  // the engine reads the next page normally
  BOOST_TEST(static_cast<bool>(engine->read(page, 0, false)));
}

BOOST_AUTO_TEST_SUITE_END()
