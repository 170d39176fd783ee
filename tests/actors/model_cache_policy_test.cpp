// The LRU choice of max_loaded_models as plain code: which models load at start-up, which one is released
// when another must load, and that a busy model (requests in flight) is never the one released.
#include <boost/test/unit_test.hpp>

#include "actors/model_cache_policy.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const model_cache_policy::time_point t0 = model_cache_policy::time_point{} + 1h;

/// A node keeping 2 of its 3 models loaded: a and b (loaded at t0), c not.
model_cache_policy two_of_three() {
  model_cache_policy p(2);
  p.add("a", true, t0);
  p.add("b", true, t0);
  p.add("c", false, t0);
  return p;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_cache_policy_choice)

BOOST_AUTO_TEST_CASE(start_up_loads_the_first_models_in_config_order_up_to_the_bound) {
  const std::vector<std::string> models{"a", "b", "c"};
  BOOST_TEST(model_cache_policy(2).loaded_at_start(models) == (std::vector<std::string>{"a", "b"}),
             boost::test_tools::per_element());
  BOOST_TEST(model_cache_policy(0).loaded_at_start(models) == models, boost::test_tools::per_element());
  BOOST_TEST(model_cache_policy(5).loaded_at_start(models) == models, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(the_least_recently_used_loaded_model_is_released_for_another) {
  auto p = two_of_three();
  p.used("a", t0 + 2s);
  p.used("b", t0 + 1s);
  BOOST_TEST(!p.has_room());
  BOOST_TEST(p.victim("c").value_or("none") == "b");
  p.used("b", t0 + 3s);
  BOOST_TEST(p.victim("c").value_or("none") == "a");
}

BOOST_AUTO_TEST_CASE(a_busy_model_is_never_released) {
  auto p = two_of_three();
  p.used("a", t0 + 1s);
  p.used("b", t0 + 2s);
  p.set_busy("a", true);
  BOOST_TEST(p.victim("c").value_or("none") == "b", "a is older but has requests in flight");
  p.set_busy("b", true);
  BOOST_TEST(!p.victim("c").has_value(), "every loaded model is busy: the load waits");
  p.set_busy("a", false);
  BOOST_TEST(p.victim("c").value_or("none") == "a");
}

BOOST_AUTO_TEST_CASE(the_model_asking_is_not_its_own_victim_and_a_fresh_load_counts_as_used) {
  model_cache_policy p(1);
  p.add("a", true, t0);
  p.add("b", false, t0);
  BOOST_TEST(p.victim("b").value_or("none") == "a");
  p.unloaded("a");
  BOOST_TEST(p.has_room());
  p.loaded("b", t0 + 5s);
  BOOST_TEST(p.loaded_count() == 1u);
  BOOST_TEST(p.victim("a").value_or("none") == "b");
  BOOST_TEST(!p.victim("b").has_value(), "b is the only one loaded");
}

BOOST_AUTO_TEST_CASE(without_a_bound_nothing_is_ever_released) {
  model_cache_policy p(0);
  for (const auto* m : {"a", "b", "c"}) p.add(m, true, t0);
  BOOST_TEST(p.has_room());
  BOOST_TEST(!p.victim("d").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
