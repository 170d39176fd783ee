// True timing: each step reports its own queue wait and compute, so for every op — a PDF `process` included —
// a reply's queue_ms + compute_ms never exceeds its total_ms, even when many requests wait for the same
// models at once. (Before, each step counted its queue wait from the request's acceptance and the steps'
// waits were summed: a two-step pipeline could report more queue time than total time.)
#include <boost/test/unit_test.hpp>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"
#include "support/pdf_writer.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// Requests in flight at once per op: enough that most of them queue behind others in every model.
constexpr int concurrent = 8;

struct shipped_node {
  test::nats_server nats;
  test::node_process node{test::config_file{std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/single-node.yaml"},
                          nats.url()};
  test::client client{nats.url()};
};

/// Sends `concurrent` copies of `req` to `op` at once (ids `<label>-<i>`) and checks every reply's timing.
void timings_add_up(test::client& client, const std::string& op, request req, const std::string& label) {
  const std::string inbox = "test.timing." + label;
  test::reply_collector collector(client.transport(), inbox);
  req.deadline_ms = 120000;
  for (int i = 0; i < concurrent; ++i) {
    req.id = label + "-" + std::to_string(i);
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject(op), encode_request(req, encoding::msgpack), inbox));
  }
  BOOST_REQUIRE(collector.wait_for_ids(concurrent, 180s));
  for (const auto& rep : collector.replies()) {
    BOOST_TEST(rep.ok, rep.id << ": " << test::message_of(rep));
    const auto& t = rep.time;
    BOOST_TEST(t.queue_ms >= 0.0);
    BOOST_TEST(t.compute_ms > 0.0, rep.id << ": a model computed it");
    BOOST_TEST(t.queue_ms + t.compute_ms <= t.total_ms, rep.id << ": queue " << t.queue_ms << " + compute "
                                                            << t.compute_ms << " > total " << t.total_ms << " ms");
  }
}

request image(const std::string& file) { return test::image_request(test::sample_image(file)); }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(true_timing, shipped_node)

BOOST_AUTO_TEST_CASE(classify_replies_under_concurrency_spend_no_more_than_their_total) {
  timings_add_up(client, "classify", image("invoice.jpg"), "classify-jpeg");
}

BOOST_AUTO_TEST_CASE(ocr_and_extract_replies_under_concurrency_spend_no_more_than_their_total) {
  timings_add_up(client, "ocr", image("receipt.jpg"), "ocr-jpeg");
  auto req = image("invoice.jpg");
  req.doc_type = "invoice";
  timings_add_up(client, "extract", req, "extract-jpeg");
}

BOOST_AUTO_TEST_CASE(process_replies_of_images_and_pdfs_under_concurrency_spend_no_more_than_their_total) {
  timings_add_up(client, "process", image("letter.jpg"), "process-jpeg");
  request pdf;
  pdf.image = shared_bytes::copy_of(test::make_pdf({{"INVOICE", "Invoice number: INV-2024-0042", "Total: 99.00 EUR"},
                                                    {"Page two", "Thank you for your business."}}));
  timings_add_up(client, "process", pdf, "process-pdf");
}

BOOST_AUTO_TEST_SUITE_END()
