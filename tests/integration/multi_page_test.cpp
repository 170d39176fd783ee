// Multi-page input on the shipped node: a PDF made here (Helvetica text, three pages) is read page by page,
// the bundled scanned PDF with an upside-down page goes through `process`, and hostile PDFs are refused with
// coded errors while the node keeps serving.
#include <boost/test/unit_test.hpp>

#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"
#include "support/pdf_writer.hpp"

using namespace infermesh;

namespace {

struct shipped_node {
  test::nats_server nats;
  test::node_process node{test::config_file{std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/single-node.yaml"},
                          nats.url()};
  test::client client{nats.url()};
};

request pdf_request(const std::string& pdf, std::int64_t max_pages = 10) {
  request req;
  req.image = shared_bytes::copy_of(pdf);
  req.max_pages = max_pages;
  req.deadline_ms = 120000;
  return req;
}

using test::code_of;
using test::message_of;

const std::vector<std::vector<std::string>> three_pages = {
    {"QUARTERLY REPORT", "The harbour cranes moved 4512 containers.", "Prepared by the operations team."},
    {"APPENDIX", "Weather delayed loading on 12 days.", "No injuries were reported."},
    {"CONTACTS", "Write to the port authority office.", "Thank you for reading."}};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(multi_page, shipped_node)

BOOST_AUTO_TEST_CASE(ocr_of_a_pdf_gives_the_right_text_for_each_page_up_to_max_pages) {
  auto rep = client.send("ocr", pdf_request(test::make_pdf(three_pages), 2));
  BOOST_REQUIRE_MESSAGE(rep.ok, code_of(rep) << " " << message_of(rep));
  BOOST_TEST(*rep.result.find("total_pages")->get_if<std::int64_t>() == 3);
  const auto& pages = *rep.result.find("pages")->get_if<value_array>();
  BOOST_REQUIRE(pages.size() == 2u);
  const std::vector<std::vector<std::string>> expected_words = {{"QUARTERLY", "4512", "containers"},
                                                                {"APPENDIX", "Weather", "injuries"}};
  for (std::size_t i = 0; i < pages.size(); ++i) {
    BOOST_TEST(*pages[i].find("page")->get_if<std::int64_t>() == static_cast<std::int64_t>(i + 1));
    const auto& text = *pages[i].find("text")->get_if<std::string>();
    for (const auto& word : expected_words[i]) BOOST_TEST(text.find(word) != std::string::npos, "page " << i + 1 << ": " << word << " in\n" << text);
    BOOST_TEST(*pages[i].find("rotation")->find("degrees")->get_if<std::int64_t>() == 0);
  }
}

BOOST_AUTO_TEST_CASE(process_of_the_bundled_scanned_pdf_reads_the_upside_down_second_page) {
  request req;
  req.image = shared_bytes::copy_of(test::read_file(std::string(INFERMESH_SOURCE_DIR) + "/samples/invoice-and-letter.pdf"));
  req.deadline_ms = 120000;
  auto rep = client.send("process", req);
  BOOST_REQUIRE_MESSAGE(rep.ok, code_of(rep) << " " << message_of(rep));
  BOOST_TEST(*rep.result.find("doc_type")->get_if<std::string>() == "invoice");
  BOOST_TEST(*rep.result.find("total_pages")->get_if<std::int64_t>() == 2);
  BOOST_TEST(*rep.result.find("fields")->find("invoice_number")->get_if<std::string>() == "FT 2025-67169");
  const auto& text = *rep.result.find("text")->get_if<std::string>();
  BOOST_TEST(text.find("Dear") != std::string::npos, text);  // the letter, read after turning it upright
}

BOOST_AUTO_TEST_CASE(hostile_pdfs_are_refused_with_coded_errors_and_the_node_keeps_serving) {
  BOOST_TEST(code_of(client.send("ocr", pdf_request(test::make_pdf({})))) == "unsupported_media");
  BOOST_TEST(code_of(client.send("ocr", pdf_request(test::make_pdf(three_pages, {612, 792, true})))) ==
             "unsupported_media");
  std::vector<std::vector<std::string>> bomb(1001, std::vector<std::string>{"x"});
  BOOST_TEST(code_of(client.send("ocr", pdf_request(test::make_pdf(bomb)))) == "too_large");
  BOOST_TEST(code_of(client.send("process", pdf_request(test::make_pdf({{"big"}}, {14400, 14400, false})))) ==
             "too_large");
  BOOST_TEST(code_of(client.send("ocr", pdf_request(test::make_pdf(three_pages), 101))) == "too_large");
  const auto good = test::make_pdf(three_pages);
  BOOST_TEST(code_of(client.send("ocr", pdf_request(good.substr(0, good.size() / 3)))) != "ok");
  BOOST_TEST(code_of(client.send("ocr", pdf_request(good, 1))) == "ok");
}

BOOST_AUTO_TEST_SUITE_END()
