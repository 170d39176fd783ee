// The whole path is right: the node's scores equal python3-torch's for the same file and preprocessing.
#include <boost/test/unit_test.hpp>

#include <sstream>

#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

constexpr double tolerance = 1e-4;  // the bar; float32 forward passes agree far more closely

/// Runs training/reference_scores.py on `images` with the node's own config; image -> label -> probability.
std::map<std::string, std::map<std::string, double>> python_scores(const std::string& config,
                                                                   const std::vector<std::string>& images) {
  std::vector<std::string> argv{"/usr/bin/python3", std::string(INFERMESH_SOURCE_DIR) + "/training/reference_scores.py",
                                "--config", config};
  argv.insert(argv.end(), images.begin(), images.end());
  test::child_process python("reference-scores", argv);
  BOOST_REQUIRE(python.wait_exit(std::chrono::seconds(120)).value_or(-1) == 0);
  std::map<std::string, std::map<std::string, double>> out;
  std::istringstream lines(python.output());
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("SCORES ", 0) != 0) continue;
    const auto json_at = line.find(" {");
    const std::string path = line.substr(7, json_at - 7);
    auto parsed = decode_value(shared_bytes::copy_of(line.substr(json_at + 1)), encoding::json, decode_limits{});
    BOOST_REQUIRE(parsed);
    for (const auto& [label, p] : *parsed->get_if<value_map>()) p.as_double(out[path][label]);
  }
  return out;
}

/// Sends every sample to a node configured with `input_yaml` and compares with python3-torch.
void compare_with_python(const std::string& input_yaml) {
  test::nats_server nats;
  test::node_process node(test::sample_classifier_config("", "", input_yaml), nats.url());
  test::client client(nats.url());
  std::vector<std::string> images;
  for (const char* f : {"invoice.jpg", "receipt.jpg", "receipt.png", "id_card.jpg", "letter.jpg", "form.jpg"})
    images.push_back(test::sample_image(f));
  const auto expected = python_scores(node.config_path(), images);
  BOOST_REQUIRE(expected.size() == images.size());
  for (const auto& image : images) {
    auto rep = client.send("classify", test::image_request(image));
    BOOST_REQUIRE(rep.ok);
    const auto& scores = *rep.result.find("scores")->get_if<value_map>();
    BOOST_TEST(scores.size() == expected.at(image).size());
    for (const auto& [label, p] : scores) {
      double got = 0;
      p.as_double(got);
      BOOST_TEST(std::abs(got - expected.at(image).at(label)) < tolerance,
                 image << " " << label << ": node " << got << " python " << expected.at(image).at(label));
    }
  }
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reference_scores)

BOOST_AUTO_TEST_CASE(node_scores_equal_python_torch_scores_for_every_sample_decoded_in_full) {
  compare_with_python("decode: full");
}

BOOST_AUTO_TEST_CASE(node_scores_equal_python_torch_scores_for_every_sample_with_fast_jpeg_decoding) {
  compare_with_python("decode: fast");
}

BOOST_AUTO_TEST_SUITE_END()
