// The document models' quality bar, on a small held-out sample that CI can afford: pages rendered with a seed
// and fonts the classifier never saw, measured by the same infermesh-evaluate tool that produces the model
// card's table (which runs on 1000+ pages), on the models and preprocessing of the node's embedded default.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "support/child_process.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;

namespace {

constexpr int rotated_pages = 200;  // 40 per type, ~3/4 of them turned: classifier and orientation (no OCR: fast)
constexpr int clean_pages = 50;    // 10 per type: field extraction
constexpr double classifier_bar = 97.0, orientation_bar = 98.0, field_bar = 90.0;  // the issue's thresholds

// Issue 15, a renderer held out of the bundled models' training (groff): 100 pages (20 per type, ~3/4 turned),
// seed 9201 (no training or table set uses it). Orientation meets the issue's bar (>= 98%): 100% here, 98.9%
// of 751 turned pages in the table (65-71% before renderer training). Classification does not yet (>= 95%): a
// regression bar between the models before (classifier and orientation trained on one generator: 48% here;
// the classifier retrained: 78%) and now (88% here, 86.5% on 1000); wrong answers at confidence >= 0.9 were
// 42%, then 7.6%, now 4.2%.
constexpr int held_out_renderer_pages = 100;
constexpr double held_out_renderer_classifier_bar = 82.0, held_out_renderer_confident_wrong_limit = 10.0,
                 held_out_renderer_orientation_bar = 95.0;

const std::string source = INFERMESH_SOURCE_DIR;

/// A temp folder for one case's pages, removed when the case ends, also when a check stops it early.
struct scratch_dir {
  std::string path = test::make_temp_dir("infermesh-quality");
  scratch_dir() = default;
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  ~scratch_dir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
};

void render(const std::string& dir, int count, int seed, bool rotate) {
  std::vector<std::string> argv{"/usr/bin/python3", source + "/training/synthetic_documents.py", "--out", dir,
                                "--count", std::to_string(count), "--seed", std::to_string(seed), "--fonts", "heldout"};
  argv.push_back(rotate ? "--rotate" : "--clean");
  test::child_process python("render", argv);
  BOOST_REQUIRE_MESSAGE(python.wait_exit(std::chrono::minutes(5)).value_or(-1) == 0, python.output());
}

void render_with(const std::string& renderer, const std::string& dir, int count, int seed) {
  test::child_process python("render", {"/usr/bin/python3", source + "/training/render_documents.py", "--renderer", renderer,
                                        "--out", dir, "--count", std::to_string(count), "--seed", std::to_string(seed),
                                        "--rotate"});
  BOOST_REQUIRE_MESSAGE(python.wait_exit(std::chrono::minutes(5)).value_or(-1) == 0, python.output());
}

/// Runs infermesh-evaluate and returns measure -> percent from its table.
std::map<std::string, double> evaluate(std::vector<std::string> args) {
  args.insert(args.begin(), INFERMESH_EVALUATE_BINARY);
  test::child_process tool("evaluate", args);
  BOOST_REQUIRE_MESSAGE(tool.wait_exit(std::chrono::minutes(10)).value_or(-1) == 0, tool.output());
  std::map<std::string, double> out;
  static const std::regex row(R"(\| (.+?) \|\s+([0-9.]+)%)");
  std::istringstream lines(tool.output());
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, row)) out[m[1]] = std::stod(m[2]);
  }
  BOOST_TEST_MESSAGE(tool.output());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(document_quality)

BOOST_AUTO_TEST_CASE(classifier_and_orientation_meet_the_bar_on_unseen_fonts_and_rotated_pages) {
  const scratch_dir scratch;
  const std::string& dir = scratch.path;
  render(dir, rotated_pages, 777, true);
  auto table = evaluate({"--docs", dir});
  BOOST_TEST(table.at("classifier top-1 (after orientation correction)") >= classifier_bar);
  BOOST_TEST(table.at("orientation: rotated pages corrected to upright") >= orientation_bar);
}

BOOST_AUTO_TEST_CASE(orientation_and_classifier_keep_their_gain_on_pages_of_a_renderer_they_never_saw) {
  const scratch_dir scratch;
  const std::string& dir = scratch.path;
  render_with("groff", dir, held_out_renderer_pages, 9201);
  auto table = evaluate({"--docs", dir});
  BOOST_TEST(table.at("classifier top-1 (after orientation correction)") >= held_out_renderer_classifier_bar);
  BOOST_TEST(table.at("classifier wrong at confidence >= 0.9") <= held_out_renderer_confident_wrong_limit);
  BOOST_TEST(table.at("orientation: rotated pages corrected to upright") >= held_out_renderer_orientation_bar);
  BOOST_TEST(table.at("orientation: upright pages left upright") >= held_out_renderer_orientation_bar);
}

// `process` weighs the classifier by the type words the page prints (models/text_evidence.hpp): on 50 held-out
// groff pages (seed 9202, read by Tesseract) 92% -> 98% when measured; on 200 (seeds 9101-9104) 86.5% -> 94%.
BOOST_AUTO_TEST_CASE(the_pages_text_lifts_classification_on_a_renderer_the_models_never_saw) {
  const scratch_dir scratch;
  const std::string& dir = scratch.path;
  render_with("groff", dir, 50, 9202);
  auto table = evaluate({"--docs", dir, "--fields"});
  const double image = table.at("classifier top-1 (after orientation correction)");
  const double with_text = table.at("classifier + page text (as `process` answers) top-1");
  BOOST_TEST(with_text >= 90.0);
  BOOST_TEST(with_text >= image, "with the text " << with_text << "%, the image alone " << image << "%");
  BOOST_TEST(table.at("classifier + page text wrong at confidence >= 0.9") <= 10.0);
}

BOOST_AUTO_TEST_CASE(every_extracted_field_meets_the_bar_on_clean_pages_in_unseen_fonts) {
  const scratch_dir scratch;
  const std::string& dir = scratch.path;
  render(dir, clean_pages, 778, false);
  auto table = evaluate({"--docs", dir, "--fields"});
  int fields = 0;
  for (const auto& [measure, percent] : table)
    if (measure.rfind("field ", 0) == 0) {
      ++fields;
      BOOST_TEST(percent >= field_bar, measure << ": " << percent << "%");
    }
  BOOST_TEST(fields == 13);  // invoice 4, receipt 3, id_card 3, letter 2, form 1
  if (table.count("id_card: wrong CPF check digits marked invalid"))
    BOOST_TEST(table.at("id_card: wrong CPF check digits marked invalid") == 100.0);
}

BOOST_AUTO_TEST_CASE(a_bad_node_config_stops_the_evaluation_with_a_message_naming_file_and_key) {
  const scratch_dir scratch;
  const std::string& dir = scratch.path;
  render(dir, 1, 779, false);
  const std::string config = dir + "/bad.yaml";
  std::ofstream(config) << "models:\n"
                           "  - name: doc-classifier\n"
                           "    serves: classify\n"
                           "    path: " << source << "/model-repository/document-classifier/model.pt\n"
                           "    labels_file: " << source << "/model-repository/document-classifier/labels.txt\n"
                           "    input: {widht: 160}\n";  // the typo the message must name
  test::child_process tool("evaluate", {INFERMESH_EVALUATE_BINARY, "--docs", dir, "--config", config});
  const auto status = tool.wait_exit(std::chrono::minutes(1));
  const auto output = tool.output();
  BOOST_TEST(status.value_or(-1) == 2);
  BOOST_TEST(output.find(config) != std::string::npos, output);
  BOOST_TEST(output.find("models[0].input") != std::string::npos, output);
  BOOST_TEST(output.find("widht") != std::string::npos, output);
}

BOOST_AUTO_TEST_SUITE_END()
