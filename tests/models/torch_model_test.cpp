#include <boost/test/unit_test.hpp>

#include <numeric>

#include "models/image_preprocess.hpp"
#include "models/model.hpp"
#include "support/node_process.hpp"

using namespace infermesh;

namespace {

const std::string model_dir = std::string(INFERMESH_SOURCE_DIR) + "/model-repository/sample-classifier";

model_config sample_config() {
  model_config c;
  c.name = "doc-layout-sample";
  c.path = model_dir + "/model.pt";
  c.labels = {"invoice", "receipt", "id_card", "letter", "form"};
  c.input.width = c.input.height = 128;
  return c;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(torch_model)

BOOST_AUTO_TEST_CASE(runs_one_forward_per_batch_and_returns_a_probability_row_per_item) {
  auto m = load_model(sample_config());
  BOOST_REQUIRE_MESSAGE(m, (m ? "" : m.err().message));
  tensor_batch batch{3, {3, 128, 128}, {}};
  for (const char* file : {"invoice.jpg", "receipt.jpg", "id_card.jpg"}) {
    auto t = preprocess_image(shared_bytes::copy_of(test::read_file(test::sample_image(file))), sample_config().input);
    BOOST_REQUIRE(t);
    batch.data.insert(batch.data.end(), t->begin(), t->end());
  }
  auto out = (*m)->run(batch);
  BOOST_REQUIRE(out);
  BOOST_TEST(out->count == 3u);
  BOOST_TEST(out->classes == 5u);
  for (std::size_t i = 0; i < 3; ++i) {
    const float* row = out->data.data() + i * 5;
    BOOST_TEST(std::accumulate(row, row + 5, 0.0f) == 1.0f, boost::test_tools::tolerance(1e-4f));
    BOOST_TEST(std::max_element(row, row + 5) - row == static_cast<long>(i));  // invoice, receipt, id_card
  }
}

BOOST_AUTO_TEST_CASE(a_cuda_device_fails_clearly_on_a_cpu_only_build) {
  auto c = sample_config();
  c.device = "cuda:0";
  auto m = load_model(c);
  BOOST_REQUIRE(!m);
  BOOST_TEST(m.err().message.find("CUDA") != std::string::npos);
  BOOST_TEST(m.err().message.find("cuda:0") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_missing_file_is_not_found) {
  auto c = sample_config();
  c.path = model_dir + "/no-such-model.pt";
  auto m = load_model(c);
  BOOST_REQUIRE(!m);
  BOOST_TEST(to_string(m.err().code) == "not_found");
}

BOOST_AUTO_TEST_CASE(labels_that_do_not_match_the_output_fail_at_warm_up) {
  auto c = sample_config();
  c.labels = {"a", "b"};
  auto m = load_model(c);
  BOOST_REQUIRE(!m);
  BOOST_TEST(m.err().message.find("warm-up") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_file_that_is_not_torchscript_fails_to_load_with_its_path) {
  auto c = sample_config();
  c.path = model_dir + "/labels.txt";
  auto m = load_model(c);
  BOOST_REQUIRE(!m);
  BOOST_TEST(m.err().message.find("labels.txt") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
