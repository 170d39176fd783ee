// The shipped node (cluster-config/single-node.yaml) on the bundled sample documents: classify, ocr and
// extract give the right answers for each type, rotated pages included (truth: samples/truth.json).
#include <boost/test/unit_test.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "messages/codec.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

const std::string samples = std::string(INFERMESH_SOURCE_DIR) + "/samples/";

struct sample {
  std::string file, doc_type;
  int clockwise = 0;
  std::map<std::string, std::string> fields;
};

std::vector<sample> load_samples() {
  auto tree = decode_value(shared_bytes::copy_of(test::read_file(samples + "truth.json")), encoding::json,
                           decode_limits{});
  BOOST_REQUIRE(tree);
  std::vector<sample> out;
  for (const auto& item : *tree->get_if<value_array>()) {
    if (item.find("pages") != nullptr) continue;  // the multi-page PDF (multi_page_test)
    sample s{*item.find("file")->get_if<std::string>(), *item.find("doc_type")->get_if<std::string>(),
             static_cast<int>((360 - *item.find("rotation")->get_if<std::int64_t>()) % 360), {}};
    for (const auto& [k, v] : *item.find("fields")->get_if<value_map>())
      if (const auto* text = v.get_if<std::string>()) s.fields[k] = *text;
    out.push_back(std::move(s));
  }
  return out;
}

struct shipped_node {
  test::nats_server nats;
  test::node_process node{test::config_file{std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/single-node.yaml"},
                          nats.url()};
  test::client client{nats.url()};
};

/// OCR of a full page takes seconds (more on a loaded CI machine or under sanitizers): a generous deadline.
request page_request(const std::string& file) {
  auto req = test::image_request(samples + file);
  req.deadline_ms = 120000;
  return req;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(documents, shipped_node)

BOOST_AUTO_TEST_CASE(classify_names_the_type_of_every_sample_after_turning_it_upright) {
  for (const auto& s : load_samples()) {
    auto rep = client.send("classify", page_request(s.file));
    BOOST_REQUIRE_MESSAGE(rep.ok, s.file);
    BOOST_TEST(*rep.result.find("doc_type")->get_if<std::string>() == s.doc_type, s.file);
    BOOST_TEST(*rep.result.find("rotation")->find("degrees")->get_if<std::int64_t>() == s.clockwise, s.file);
  }
}

BOOST_AUTO_TEST_CASE(extract_reads_every_field_of_every_sample) {
  for (const auto& s : load_samples()) {
    auto req = page_request(s.file);
    req.doc_type = s.doc_type;
    auto rep = client.send("extract", req);
    BOOST_REQUIRE_MESSAGE(rep.ok, s.file);
    const value* fields = rep.result.find("fields");
    for (const auto& [name, want] : s.fields) {
      if (name == "cpf_valid") continue;
      const value* got = fields->find(name);
      BOOST_TEST((got != nullptr && *got->get_if<std::string>() == want), s.file << " " << name << " = " << want);
      BOOST_TEST(*rep.result.find("valid")->find(name)->get_if<bool>(), s.file << " " << name);
    }
  }
}

BOOST_AUTO_TEST_CASE(process_answers_type_fields_and_rotation_of_every_sample_in_one_round_trip) {
  for (const auto& s : load_samples()) {
    auto rep = client.send("process", page_request(s.file));
    BOOST_REQUIRE_MESSAGE(rep.ok, s.file);
    BOOST_TEST(*rep.result.find("doc_type")->get_if<std::string>() == s.doc_type, s.file);
    BOOST_TEST(*rep.result.find("rotation")->find("degrees")->get_if<std::int64_t>() == s.clockwise, s.file);
    for (const auto& [name, want] : s.fields) {
      if (name == "cpf_valid") continue;
      const value* got = rep.result.find("fields")->find(name);
      BOOST_TEST((got != nullptr && *got->get_if<std::string>() == want), s.file << " " << name << " = " << want);
    }
    BOOST_TEST(!rep.result.find("text")->get_if<std::string>()->empty(), s.file);
  }
}

BOOST_AUTO_TEST_CASE(pages_with_nothing_to_read_get_no_invented_fields_and_nothing_crashes) {
  std::vector<std::pair<std::string, cv::Mat>> nothing = {
      {"blank page", cv::Mat(1600, 1100, CV_8UC3, cv::Scalar(250, 250, 250))},
      {"1x1", cv::Mat(1, 1, CV_8UC3, cv::Scalar(0, 0, 0))},
      {"noise", [] {
         cv::Mat m(600, 800, CV_8UC3);
         cv::randu(m, 0, 255);
         return m;
       }()},
  };
  for (const auto& [what, image] : nothing) {
    std::vector<std::uint8_t> png;
    cv::imencode(".png", image, png);
    request req;
    req.image = shared_bytes::from_vector(png);
    req.deadline_ms = 120000;
    auto classified = client.send("classify", req);
    BOOST_TEST((classified.ok || classified.failure.has_value()), what);
    req.doc_type = "invoice";
    auto extracted = client.send("extract", req);
    BOOST_REQUIRE_MESSAGE(extracted.ok, what);
    BOOST_TEST(extracted.result.find("fields")->get_if<value_map>()->empty(), what);
    for (const auto& [name, ok] : *extracted.result.find("valid")->get_if<value_map>())
      BOOST_TEST(!*ok.get_if<bool>(), what << " " << name);
  }
  // 20000 x 20000 claimed by the header: refused before any pixel is decoded.
  std::string bomb("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x4e\x20\x00\x00\x4e\x20\x08\x02\x00\x00\x00", 29);
  request req;
  req.image = shared_bytes::copy_of(bomb + std::string(4, '\0'));
  for (const char* op : {"classify", "ocr"}) {
    auto rep = client.send(op, req);
    BOOST_REQUIRE(rep.failure.has_value());
    BOOST_TEST(test::code_of(rep) == "too_large", op);
  }
  BOOST_TEST(client.send("ocr", page_request("receipt-upright.jpg")).ok);
}

BOOST_AUTO_TEST_SUITE_END()
