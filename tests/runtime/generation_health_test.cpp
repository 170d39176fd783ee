// A released group's health reports: the release forgets each reporter (healthy) and a later report of the
// same generation is dropped, so a supervisor's late "unhealthy" cannot keep the model unhealthy for ever.
#include <boost/test/unit_test.hpp>

#include <map>
#include <string>

#include "runtime/generation_health.hpp"

using namespace infermesh;

BOOST_AUTO_TEST_SUITE(generation_health_reports)

BOOST_AUTO_TEST_CASE(a_report_after_the_release_is_dropped_and_the_release_leaves_every_reporter_healthy) {
  std::map<std::string, bool> seen;  // reporter -> last report passed on
  generation_health h([&](const std::string& who, bool healthy) { seen[who] = healthy; });
  h.report("model#1", false);
  BOOST_TEST(!seen["model#1"]);
  h.release({"model#1", "batcher#1", "step#1"});
  BOOST_TEST(seen["model#1"]);
  BOOST_TEST(seen["batcher#1"]);
  h.report("model#1", false);  // a supervisor's report that lands after the release
  BOOST_TEST(seen["model#1"], "the late report was dropped");
}

BOOST_AUTO_TEST_SUITE_END()
