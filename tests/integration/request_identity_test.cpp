// What "the same request" is, through a real nats-server and the shipped node (cluster-config/single-node.yaml):
// a repeated id is answered from the reply cache only for the same op and the same answer-determining fields;
// the same id with another image is `bad_request` naming `id`; `model` is one map for every op and `models`
// lists every model used.
#include <boost/test/unit_test.hpp>

#include <regex>

#include "messages/codec.hpp"
#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const std::string samples = std::string(INFERMESH_SOURCE_DIR) + "/samples/";

struct shipped_node {
  test::nats_server nats;
  test::node_process node{test::config_file{std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/single-node.yaml"},
                          nats.url()};
  test::client client{nats.url()};
};

request page(const std::string& file, const std::string& id) {
  auto req = test::image_request(samples + file, id);
  req.deadline_ms = 120000;  // OCR takes seconds on a loaded machine
  return req;
}

std::string doc_type_of(const reply& r) {
  const value* v = r.result.find("doc_type");
  return v != nullptr && v->get_if<std::string>() ? *v->get_if<std::string>() : "";
}

/// The wire's `model` and `models` of a raw reply, read as a client written from PROTOCOL.md reads them.
struct wire_models {
  const value* model = nullptr;
  const value* models = nullptr;
  value tree;
};

wire_models models_on_the_wire(const shared_bytes& raw) {
  wire_models out;
  auto tree = decode_value(raw, detect_encoding(raw), decode_limits{});
  BOOST_REQUIRE(tree);
  out.tree = std::move(*tree);
  out.model = out.tree.find("model");
  out.models = out.tree.find("models");
  return out;
}

using test::code_of;
using test::message_of;

}  // namespace

BOOST_FIXTURE_TEST_SUITE(request_identity, shipped_node)

BOOST_AUTO_TEST_CASE(the_same_id_sent_as_classify_then_process_gets_a_process_answer) {
  auto classified = client.send("classify", page("invoice-upright.jpg", "reused-id"));
  BOOST_REQUIRE_MESSAGE(classified.ok, code_of(classified) << ": " << message_of(classified));
  BOOST_TEST(classified.op == "classify");
  auto processed = client.send("process", page("invoice-upright.jpg", "reused-id"));
  BOOST_REQUIRE_MESSAGE(processed.ok, code_of(processed) << ": " << message_of(processed));
  BOOST_TEST(processed.op == "process");
  BOOST_TEST(processed.id == "reused-id");
  BOOST_TEST(doc_type_of(processed) == "invoice");
  BOOST_TEST(processed.result.find("fields") != nullptr, "a process result, not the cached classify one");
  BOOST_TEST(processed.result.find("text") != nullptr);
}

BOOST_AUTO_TEST_CASE(the_same_id_with_another_image_is_refused_bad_request_naming_id) {
  auto first = client.send("classify", page("invoice-upright.jpg", "one-image-id"));
  BOOST_REQUIRE(first.ok);
  auto other = client.send("classify", page("receipt-upright.jpg", "one-image-id"));
  BOOST_TEST(code_of(other) == "bad_request");
  BOOST_TEST(other.id == "one-image-id");
  BOOST_TEST(message_of(other).find("'id'") != std::string::npos, message_of(other));
  BOOST_TEST(message_of(other).find("'image'") != std::string::npos, message_of(other));
  auto fresh = client.send("classify", page("receipt-upright.jpg", "a-new-id"));
  BOOST_TEST(doc_type_of(fresh) == "receipt", "with a new id the other image is answered");
}

BOOST_AUTO_TEST_CASE(a_retry_with_another_deadline_and_priority_is_answered_from_the_cache) {
  auto req = page("letter-rotated-180.jpg", "retried-id");
  auto first = client.send("classify", req);
  BOOST_REQUIRE(first.ok);
  req.deadline_ms = 5000;
  req.priority = 4;
  auto retry = client.send("classify", req);
  BOOST_REQUIRE_MESSAGE(retry.ok, code_of(retry) << ": " << message_of(retry));
  BOOST_TEST(doc_type_of(retry) == doc_type_of(first));
  BOOST_TEST(retry.time.total_ms == first.time.total_ms, "the first answer, not computed again");
  const auto stopped = node.stop_problem(30s);
  BOOST_REQUIRE_MESSAGE(stopped.empty(), stopped);
  std::smatch m;
  const auto log = node.process().output();
  BOOST_REQUIRE(std::regex_search(log, m, std::regex(R"((\d+) repeated ids answered from the reply cache)")));
  BOOST_TEST(std::stoi(m[1]) == 1);
}

BOOST_AUTO_TEST_CASE(model_is_one_map_for_every_op_and_models_lists_every_model_used) {
  const std::map<std::string, std::string> result_model{
      {"classify", "doc-classifier"}, {"ocr", "tesseract-eng"}, {"extract", "tesseract-eng"}, {"process", "tesseract-eng"}};
  const std::map<std::string, std::vector<std::string>> used{
      {"classify", {"doc-orientation", "doc-classifier"}},
      {"ocr", {"doc-orientation", "tesseract-eng"}},
      {"extract", {"doc-orientation", "tesseract-eng"}},
      {"process", {"doc-orientation", "doc-classifier", "tesseract-eng"}}};
  for (const auto& [op, name] : result_model) {
    auto req = page("invoice-upright.jpg", "models-" + op);
    req.doc_type = "invoice";
    for (auto enc : {encoding::msgpack, encoding::json}) {
      req.id = "models-" + op + (enc == encoding::json ? "-json" : "");
      auto raw = client.transport().request(wire::op_subject(op), encode_request(req, enc), 120s);
      BOOST_REQUIRE(raw);
      auto wire = models_on_the_wire(*raw);
      BOOST_REQUIRE_MESSAGE(wire.model != nullptr, op << ": no 'model'");
      BOOST_REQUIRE_MESSAGE(wire.model->get_if<value_map>() != nullptr, op << ": 'model' is not a map");
      BOOST_TEST(*wire.model->find("name")->get_if<std::string>() == name, op);
      BOOST_REQUIRE_MESSAGE(wire.models != nullptr && wire.models->get_if<value_array>() != nullptr, op);
      std::vector<std::string> names;
      for (const auto& m : *wire.models->get_if<value_array>()) names.push_back(*m.find("name")->get_if<std::string>());
      BOOST_TEST(names == used.at(op), op);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()
