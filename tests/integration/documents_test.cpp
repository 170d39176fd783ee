// The shipped node (cluster-config/single-node.yaml) on the bundled sample documents: classify, ocr and
// extract give the right answers for each type, rotated pages included (truth: models/samples/truth.json).
#include <boost/test/unit_test.hpp>

#include "messages/codec.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

const std::string samples = std::string(INFERMESH_SOURCE_DIR) + "/models/samples/";

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

}  // namespace

BOOST_FIXTURE_TEST_SUITE(documents, shipped_node)

BOOST_AUTO_TEST_CASE(classify_names_the_type_of_every_sample_after_turning_it_upright) {
  for (const auto& s : load_samples()) {
    auto rep = client.send("classify", test::image_request(samples + s.file));
    BOOST_REQUIRE_MESSAGE(rep.ok, s.file);
    BOOST_TEST(*rep.result.find("doc_type")->get_if<std::string>() == s.doc_type, s.file);
    BOOST_TEST(*rep.result.find("rotation")->find("degrees")->get_if<std::int64_t>() == s.clockwise, s.file);
  }
}

BOOST_AUTO_TEST_CASE(extract_reads_every_field_of_every_sample) {
  for (const auto& s : load_samples()) {
    auto req = test::image_request(samples + s.file);
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

BOOST_AUTO_TEST_SUITE_END()
