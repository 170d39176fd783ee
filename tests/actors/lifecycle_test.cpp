#include <boost/test/unit_test.hpp>

#include "actors/lifecycle.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// 2 restarts within 10 s; back-off 100 ms doubling up to 400 ms; a replacement not serving 1 s after the
/// death makes the child overdue.
supervision_config two_in_ten_seconds() { return {2, 10000ms, 100ms, 400ms, 3, 1000ms}; }

const lifecycle::time_point t0 = lifecycle::time_point{} + 1h;

/// A child that started at t0 and served at once.
lifecycle serving_child(supervision_config config = two_in_ten_seconds()) {
  lifecycle life(config);
  BOOST_REQUIRE(life.ready(life.started(t0), t0));
  return life;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(lifecycle_states)

BOOST_AUTO_TEST_CASE(a_child_loads_then_serves_once_it_answers_ready) {
  lifecycle life(two_in_ten_seconds());
  const auto first = life.started(t0);
  BOOST_TEST(life.state() == life_state::loading);
  BOOST_TEST(life.healthy(), "loading at start-up is not a failure");
  BOOST_TEST(life.ready(first, t0 + 5ms));
  BOOST_TEST(life.state() == life_state::serving);
  BOOST_TEST(life.restarts() == 0u, "the first child is not a restart");
}

BOOST_AUTO_TEST_CASE(a_death_waits_the_back_off_then_loads_a_replacement_that_counts_as_a_restart) {
  auto life = serving_child();
  auto next = life.died(t0 + 1s, "killed");
  BOOST_TEST(life.state() == life_state::restarting);
  BOOST_TEST(life.reason().find("killed") != std::string::npos);
  BOOST_TEST(next.restarts);
  BOOST_TEST(next.restart_delay.count() == 100);
  BOOST_TEST(life.healthy(), "a short restart does not gate the node");
  BOOST_TEST(life.timer_fired(next.restart_timer, t0 + 1100ms), "the back-off passed: spawn the replacement");
  BOOST_TEST(life.state() == life_state::loading);
  BOOST_TEST(life.ready(life.incarnation(), t0 + 1300ms));
  BOOST_TEST(life.restarts() == 1u);
  BOOST_TEST(life.last_recovery_ms() == 300.0);
}

BOOST_AUTO_TEST_CASE(back_off_doubles_for_deaths_within_the_period) {
  auto life = serving_child();
  std::vector<long> delays;
  auto at = t0;
  for (int i = 0; i < 2; ++i) {
    at += 1s;
    auto next = life.died(at, "crash");
    delays.push_back(next.restart_delay.count());
    BOOST_REQUIRE(life.timer_fired(next.restart_timer, at + next.restart_delay));
    BOOST_REQUIRE(life.ready(life.incarnation(), at + next.restart_delay));
  }
  BOOST_TEST(delays == (std::vector<long>{100, 200}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(one_death_past_the_intensity_is_unhealthy_until_a_try_a_period_later_serves) {
  auto life = serving_child();
  auto at = t0;
  for (int i = 0; i < 2; ++i) {
    at += 1s;
    auto next = life.died(at, "crash");
    BOOST_REQUIRE(life.timer_fired(next.restart_timer, at + next.restart_delay));
    BOOST_REQUIRE(life.ready(life.incarnation(), at + next.restart_delay));
  }
  auto third = life.died(at + 1s, "crash");
  BOOST_TEST(life.state() == life_state::unhealthy);
  BOOST_TEST(!life.healthy());
  BOOST_TEST(third.restart_delay.count() == 10000, "one try per period");
  BOOST_TEST(third.grace_timer == 0u, "no loading grace: it is unhealthy already");
  BOOST_TEST(life.timer_fired(third.restart_timer, at + 11s));
  BOOST_TEST(!life.healthy(), "still unhealthy while the try loads");
  BOOST_TEST(life.ready(life.incarnation(), at + 11s + 10ms));
  BOOST_TEST(life.healthy());
  BOOST_TEST(life.state() == life_state::serving);
}

BOOST_AUTO_TEST_CASE(a_replacement_still_loading_after_the_grace_is_overdue_until_it_serves) {
  auto life = serving_child();
  auto next = life.died(t0 + 1s, "crash");
  BOOST_TEST(next.grace_delay.count() == 1000);
  BOOST_REQUIRE(life.timer_fired(next.restart_timer, t0 + 1100ms));
  BOOST_TEST(!life.timer_fired(next.grace_timer, t0 + 2s), "the grace timer never spawns");
  BOOST_TEST(!life.healthy(), "loading 1 s after the death: the node stops taking its ops");
  BOOST_TEST(life.state() == life_state::loading);
  BOOST_TEST(life.ready(life.incarnation(), t0 + 5s));
  BOOST_TEST(life.healthy());
}

BOOST_AUTO_TEST_CASE(a_grace_timer_after_the_replacement_served_changes_nothing) {
  auto life = serving_child();
  auto next = life.died(t0 + 1s, "crash");
  BOOST_REQUIRE(life.timer_fired(next.restart_timer, t0 + 1100ms));
  BOOST_REQUIRE(life.ready(life.incarnation(), t0 + 1200ms));
  BOOST_TEST(!life.timer_fired(next.grace_timer, t0 + 2s));
  BOOST_TEST(life.healthy());
}

BOOST_AUTO_TEST_CASE(stale_timers_and_a_dead_childs_readiness_are_ignored) {
  auto life = serving_child();
  const auto before = life.incarnation();
  auto first = life.died(t0 + 1s, "crash");
  BOOST_TEST(!life.ready(before, t0 + 1s), "the dead child's late answer");
  BOOST_REQUIRE(life.timer_fired(first.restart_timer, t0 + 1100ms));
  BOOST_TEST(!life.timer_fired(first.restart_timer, t0 + 1200ms), "a timer fires once");
  auto second = life.died(t0 + 1150ms, "died loading");
  BOOST_TEST(!life.timer_fired(first.grace_timer, t0 + 1160ms), "the first death's grace timer is stale");
  BOOST_TEST(second.restart_delay.count() == 200);
  BOOST_TEST(life.deaths() == 2u);
}

BOOST_AUTO_TEST_CASE(the_grace_counts_from_the_first_death_not_recovered_from) {
  auto life = serving_child();
  auto first = life.died(t0 + 1s, "crash");
  BOOST_REQUIRE(life.timer_fired(first.restart_timer, t0 + 1100ms));
  auto second = life.died(t0 + 1700ms, "died loading");  // a crash loop: 700 ms into the grace
  BOOST_TEST(second.grace_delay.count() == 300);
}

BOOST_AUTO_TEST_CASE(a_child_without_restarts_is_stopped_by_its_death) {
  lifecycle life(two_in_ten_seconds(), false);
  BOOST_REQUIRE(life.ready(life.started(t0), t0));
  auto next = life.died(t0 + 1s, "crash");
  BOOST_TEST(!next.restarts);
  BOOST_TEST(life.state() == life_state::stopped);
  BOOST_TEST(!life.healthy());
}

BOOST_AUTO_TEST_CASE(a_stopped_child_is_not_restarted_when_its_death_arrives) {
  auto life = serving_child();
  life.stop("shutdown");
  BOOST_TEST(!life.died(t0 + 1s, "user_shutdown").restarts);
  BOOST_TEST(life.state() == life_state::stopped);
  BOOST_TEST(state_name(life.state()) == "stopped");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lifecycle_after_unhealthy)

BOOST_AUTO_TEST_CASE(a_try_after_being_unhealthy_that_dies_too_stays_unhealthy_and_waits_another_period) {
  auto life = serving_child();
  auto at = t0;
  lifecycle::after_death next;
  for (int i = 0; i < 3; ++i) {  // the third death is past max_restarts 2
    at += 1s;
    next = life.died(at, "crash");
    if (i < 2) {
      BOOST_REQUIRE(life.timer_fired(next.restart_timer, at + next.restart_delay));
      BOOST_REQUIRE(life.ready(life.incarnation(), at + next.restart_delay));
    }
  }
  BOOST_REQUIRE(life.state() == life_state::unhealthy);
  at += next.restart_delay;  // a period later: the try...
  BOOST_REQUIRE(life.timer_fired(next.restart_timer, at));
  auto again = life.died(at + 10ms, "crash");  // ...dies before it serves (its window has emptied meanwhile)
  BOOST_TEST(life.state() == life_state::unhealthy, "not a new burst of fast restarts");
  BOOST_TEST(again.restart_delay.count() == 10000);
  BOOST_TEST(!life.healthy());
  BOOST_REQUIRE(life.timer_fired(again.restart_timer, at + 10s + 10ms));
  BOOST_REQUIRE(life.ready(life.incarnation(), at + 10s + 20ms));
  BOOST_TEST(life.healthy());
  auto later = life.died(at + 11s, "crash");
  BOOST_TEST(later.restart_delay.count() == 100, "once it served, deaths back off afresh");
}

BOOST_AUTO_TEST_SUITE_END()
