#include <boost/test/unit_test.hpp>

#include "actors/pipeline.hpp"

using namespace infermesh;
using s = step_kind;

BOOST_AUTO_TEST_SUITE(pipeline_steps)

BOOST_AUTO_TEST_CASE(every_op_of_the_protocol_has_a_default_pipeline_that_is_valid) {
  const auto& defaults = default_pipelines();
  BOOST_TEST(defaults.size() == 4u);
  for (const auto& [op, steps] : defaults) BOOST_TEST(pipeline_problem(op, steps).empty(), op);
  BOOST_TEST((defaults.at("process") == pipeline{s::orient, s::classify, s::ocr, s::extract}));
}

BOOST_AUTO_TEST_CASE(step_names_round_trip_and_unknown_names_are_refused) {
  for (auto step : {s::orient, s::classify, s::ocr, s::extract}) BOOST_TEST((parse_step(step_name(step)) == step));
  BOOST_TEST(!parse_step("teleport"));
}

BOOST_AUTO_TEST_CASE(pipelines_that_cannot_produce_their_result_are_explained) {
  BOOST_TEST(pipeline_problem("translate", {s::ocr}).find("unknown op") != std::string::npos);
  BOOST_TEST(!pipeline_problem("ocr", {}).empty());
  BOOST_TEST(pipeline_problem("ocr", {s::ocr, s::ocr}).find("twice") != std::string::npos);
  BOOST_TEST(pipeline_problem("classify", {s::classify, s::orient}).find("first") != std::string::npos);
  BOOST_TEST(pipeline_problem("extract", {s::extract, s::ocr}).find("'ocr' step before") != std::string::npos);
  BOOST_TEST(!pipeline_problem("classify", {s::orient}).empty());
  BOOST_TEST(!pipeline_problem("process", {s::orient, s::ocr, s::extract}).empty());
  BOOST_TEST(pipeline_problem("classify", {s::classify}).empty());  // no orientation: allowed
}

BOOST_AUTO_TEST_CASE(a_step_goes_remote_as_the_op_that_runs_it) {
  BOOST_TEST(remote_op_of(s::orient) == "classify");  // classify orients first and reports the rotation
  BOOST_TEST(remote_op_of(s::classify) == "classify");
  BOOST_TEST(remote_op_of(s::ocr) == "ocr");
}

BOOST_AUTO_TEST_SUITE_END()
