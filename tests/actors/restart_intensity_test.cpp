#include <boost/test/unit_test.hpp>

#include "actors/restart_intensity.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// 3 restarts within a second; back-off 10 ms doubling up to 25 ms.
supervision_config three_in_a_second() { return {3, 1000ms, 10ms, 25ms}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(restart_intensity_policy)

BOOST_AUTO_TEST_CASE(back_off_doubles_per_death_in_the_period_up_to_its_maximum) {
  restart_intensity r(three_in_a_second());
  const auto t0 = std::chrono::steady_clock::now();
  BOOST_TEST(r.on_death(t0).delay.count() == 10);
  BOOST_TEST(r.on_death(t0 + 1ms).delay.count() == 20);
  auto third = r.on_death(t0 + 2ms);
  BOOST_TEST(third.delay.count() == 25);
  BOOST_TEST(!third.exceeded);
}

BOOST_AUTO_TEST_CASE(one_death_more_than_max_restarts_in_the_period_is_exceeded_and_waits_a_period) {
  restart_intensity r(three_in_a_second());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) BOOST_TEST(!r.on_death(t0 + i * 1ms).exceeded);
  const auto fourth = r.on_death(t0 + 3ms);
  BOOST_TEST(fourth.exceeded);
  BOOST_TEST(fourth.delay.count() == 1000);
}

BOOST_AUTO_TEST_CASE(deaths_older_than_the_period_are_forgotten) {
  restart_intensity r(three_in_a_second());
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) r.on_death(t0 + i * 1ms);
  const auto later = r.on_death(t0 + 1500ms);
  BOOST_TEST(!later.exceeded);
  BOOST_TEST(later.delay.count() == 10, "the back-off starts over");
}

BOOST_AUTO_TEST_SUITE_END()
