// Two nodes with complementary placement (cluster-config/two-node.yaml): node-a hosts orientation and the
// classifier, node-b hosts OCR. `process` is answered from either entry point, one reply per request, with the
// steps a node lacks sent over NATS to the other; when node-b dies, `process` answers `unavailable` in time.
#include <boost/test/unit_test.hpp>

#include <csignal>
#include <map>
#include <regex>
#include <set>

#include "messages/codec.hpp"
#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const std::string samples = std::string(INFERMESH_SOURCE_DIR) + "/samples/";
const std::string cluster_file = std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/two-node.yaml";

struct two_nodes {
  test::nats_server nats;
  test::node_process a{test::config_file{cluster_file, "node-a"}, nats.url(), "node-a"};
  test::node_process b{test::config_file{cluster_file, "node-b"}, nats.url(), "node-b"};
  test::client client{nats.url()};
};

request page(const std::string& file, const std::string& id = "") {
  auto req = test::image_request(samples + file, id);
  req.deadline_ms = 120000;  // OCR takes seconds on a loaded machine, more under sanitizers
  return req;
}

using test::code_of;
using test::message_of;

std::string text_field(const reply& r, const char* key) {
  const value* v = r.result.find(key);
  return v != nullptr && v->get_if<std::string>() ? *v->get_if<std::string>() : "";
}

/// Whether the server answers a request to `op` with no responders (nobody subscribes to it) within `bound`;
/// each try is a request of its own, so a subscriber the server has not yet dropped only costs a retry.
bool nobody_serves_within(nats_transport& transport, const std::string& op, std::chrono::milliseconds bound) {
  const auto until = std::chrono::steady_clock::now() + bound;
  while (std::chrono::steady_clock::now() < until) {
    auto answer = transport.request(wire::op_subject(op), "probe", 1s);
    if (!answer && answer.err().message.find("no node serves") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cross_node, two_nodes)

BOOST_AUTO_TEST_CASE(each_node_subscribes_to_the_ops_it_can_work_on) {
  BOOST_TEST(a.process().output().find("serving classify, process") != std::string::npos);
  BOOST_TEST(b.process().output().find("serving extract, ocr, process") != std::string::npos);
  BOOST_TEST(b.process().output().find("classify(remote)") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(process_answers_type_fields_and_text_from_either_entry_point) {
  std::set<std::string> entry_points;
  // NATS picks a queue subscriber at random per request: 24 tries miss a node with probability 2^-23 (8 tries
  // missed one in a CI run). The loop ends as soon as both nodes have answered.
  for (int i = 0; i < 24 && entry_points.size() < 2; ++i) {
    auto rep = client.send("process", page("id-card-rotated-90.jpg", "p" + std::to_string(i)));
    BOOST_REQUIRE_MESSAGE(rep.ok, code_of(rep) << ": " << message_of(rep));
    entry_points.insert(rep.node);
    BOOST_TEST(text_field(rep, "doc_type") == "id_card");
    BOOST_TEST(rep.result.find("fields")->find("id_number") != nullptr);
    BOOST_TEST(*rep.result.find("fields")->find("id_number")->get_if<std::string>() == "938.092.752-55");
    BOOST_TEST(text_field(rep, "text").find("LUCAS") != std::string::npos);
    BOOST_TEST(*rep.result.find("rotation")->find("degrees")->get_if<std::int64_t>() == 270);
    std::set<std::string> models;
    for (const auto& m : rep.models) models.insert(m.name);
    BOOST_TEST((models == std::set<std::string>{"doc-orientation", "doc-classifier", "tesseract-eng"}));
    BOOST_TEST(rep.models.size() == 3u, "each model listed once");
    BOOST_REQUIRE(rep.model.has_value());
    BOOST_TEST(rep.model->name == "tesseract-eng", "process's result comes from the OCR engine, on either node");
  }
  BOOST_TEST(entry_points.size() == 2u, "both node-a and node-b answered as entry points");
}

BOOST_AUTO_TEST_CASE(an_id_used_for_classify_is_used_again_for_process_from_either_entry_point) {
  std::set<std::string> entry_points;
  // node-a answers classify; the process with the same id lands on either node (random queue pick, see above):
  // on node-b its orientation step goes to node-a as a forwarded classify with that id, which must neither get
  // the client's classify answer nor be refused as another request.
  for (int i = 0; i < 24 && entry_points.size() < 2; ++i) {
    const auto id = "reused" + std::to_string(i);
    auto classified = client.send("classify", page("id-card-rotated-90.jpg", id));
    BOOST_REQUIRE_MESSAGE(classified.ok, code_of(classified) << ": " << message_of(classified));
    BOOST_REQUIRE(classified.model.has_value());
    BOOST_TEST(classified.model->name == "doc-classifier");
    auto processed = client.send("process", page("id-card-rotated-90.jpg", id));
    BOOST_REQUIRE_MESSAGE(processed.ok, code_of(processed) << ": " << message_of(processed));
    entry_points.insert(processed.node);
    BOOST_TEST(processed.op == "process");
    BOOST_TEST(text_field(processed, "text").find("LUCAS") != std::string::npos);
    BOOST_REQUIRE(processed.model.has_value());
    BOOST_TEST(processed.model->name == "tesseract-eng");
  }
  BOOST_TEST(entry_points.size() == 2u, "both node-a and node-b answered as entry points");
}

BOOST_AUTO_TEST_CASE(a_two_page_pdf_is_processed_across_nodes_from_both_entry_points) {
  std::set<std::string> entry_points;
  for (int i = 0; i < 24 && entry_points.size() < 2; ++i) {  // random queue pick: see above
    auto rep = client.send("process", page("invoice-and-letter.pdf", "pdf" + std::to_string(i)));
    BOOST_REQUIRE_MESSAGE(rep.ok, code_of(rep) << ": " << message_of(rep));
    entry_points.insert(rep.node);
    BOOST_TEST(text_field(rep, "doc_type") == "invoice");
    BOOST_TEST(*rep.result.find("total_pages")->get_if<std::int64_t>() == 2);
    BOOST_TEST(text_field(rep, "text").find("Dear") != std::string::npos);  // page 2, upside down, read upright
  }
  BOOST_TEST(entry_points.size() == 2u, "both node-a and node-b answered as entry points");
}

BOOST_AUTO_TEST_CASE(extract_and_ocr_work_on_the_node_without_a_classifier) {
  auto req = page("invoice-upright.jpg");
  req.doc_type = "invoice";
  auto rep = client.send("extract", req);
  BOOST_REQUIRE_MESSAGE(rep.ok, code_of(rep));
  BOOST_TEST(rep.node == "node-b");
  BOOST_TEST(*rep.result.find("fields")->find("total")->get_if<std::string>() == "2365.87");
  auto no_type = page("invoice-upright.jpg");
  BOOST_TEST(code_of(client.send("extract", no_type)) == "bad_request");
}

BOOST_AUTO_TEST_CASE(sixty_four_concurrent_process_requests_each_get_one_correct_reply_in_batches) {
  const std::string inbox = "test.process.replies";
  test::reply_collector collector(client.transport(), inbox);
  constexpr int n = 64;
  const std::vector<std::pair<std::string, std::string>> docs = {{"receipt-upright.jpg", "receipt"},
                                                                 {"id-card-rotated-90.jpg", "id_card"}};
  std::map<std::string, std::string> expected;
  for (int i = 0; i < n; ++i) {
    const auto& [file, type] = docs[i % docs.size()];
    const auto id = "c" + std::to_string(i);
    expected[id] = type;
    auto payload = encode_request(page(file, id), encoding::msgpack);
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject("process"), payload, inbox));
  }
  BOOST_REQUIRE(collector.wait_for(n, 240s));
  std::map<std::string, int> seen;
  int largest_batch = 0;
  for (const auto& rep : collector.replies()) {
    ++seen[rep.id];
    BOOST_TEST(rep.ok, rep.id << ": " << code_of(rep) << " " << message_of(rep));
    if (rep.ok) BOOST_TEST(text_field(rep, "doc_type") == expected[rep.id], rep.id);
    largest_batch = std::max(largest_batch, rep.time.batch_size);
    // True timing across nodes too: the remote steps' times fit in the request's total.
    BOOST_TEST(rep.time.queue_ms + rep.time.compute_ms <= rep.time.total_ms, rep.id);
  }
  BOOST_TEST(seen.size() == static_cast<std::size_t>(n));
  for (const auto& [id, count] : seen) BOOST_TEST(count == 1, id << " answered " << count << " times");
  BOOST_TEST(largest_batch > 1, "the classifier and orientation batchers batched across pipelines");
  // The classifier's own counters (logged at shutdown): it batched requests of both entry points' pipelines.
  const auto stopped = a.stop_problem(30s);
  BOOST_REQUIRE_MESSAGE(stopped.empty(), stopped);
  static const std::regex stats(R"(stats model 'doc-classifier': (\d+) requests in (\d+) batches.*max batch (\d+))");
  std::smatch m;
  const auto log = a.process().output();
  BOOST_REQUIRE(std::regex_search(log, m, stats));
  BOOST_TEST(std::stoi(m[3]) > 1, "classifier max batch " << m[3]);
  BOOST_TEST_MESSAGE("64 concurrent process requests: classifier " << m[1] << " requests in " << m[2]
                                                                  << " batches, max batch " << m[3]);
}

BOOST_AUTO_TEST_CASE(process_answers_unavailable_within_its_deadline_once_the_ocr_node_is_gone) {
  b.process().signal(SIGKILL);
  BOOST_REQUIRE(b.process().wait_exit(10s));
  // The server drops node-b's subscriptions when it reads the closed socket, a moment after the kill: until
  // then it may still hand the client's `process` to node-b, where it is lost (a CI run under ASan did). The
  // test is about node-a's answer, so it waits until no one serves `ocr` (node-b alone hosts it).
  BOOST_REQUIRE(nobody_serves_within(client.transport(), "ocr", 20s));
  auto req = page("receipt-upright.jpg");
  req.deadline_ms = 5000;
  const auto started = std::chrono::steady_clock::now();
  auto rep = client.send("process", req, encoding::msgpack, 10s);
  const auto took = std::chrono::steady_clock::now() - started;
  BOOST_TEST(code_of(rep) == "unavailable", message_of(rep));
  BOOST_TEST(rep.node == "node-a");
  BOOST_TEST(std::chrono::duration_cast<std::chrono::milliseconds>(took).count() < 5000);
  BOOST_TEST(code_of(client.send("classify", page("receipt-upright.jpg"))) == "ok");  // node-a still serves
}

BOOST_AUTO_TEST_SUITE_END()
