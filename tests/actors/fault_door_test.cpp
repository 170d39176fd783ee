// The fault door: its wire form is read strictly (errors name the field, a misspelt key is refused rather
// than turned into another fault), injected slow-downs end at once on heal or shutdown, and fail-next-N
// counts calls.
#include <boost/test/unit_test.hpp>

#include <future>

#include "actors/fault_door.hpp"
#include "messages/codec.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

outcome<fault> parse(const std::string& json) {
  auto v = decode_value(shared_bytes::copy_of(json), encoding::json, decode_limits{});
  BOOST_REQUIRE(v);
  return parse_fault(*v);
}

std::string problem_of(const std::string& json) {
  auto f = parse(json);
  BOOST_REQUIRE(!f);
  BOOST_TEST(to_string(f.err().code) == "bad_request");
  return f.err().message;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(fault_door_commands)

BOOST_AUTO_TEST_CASE(each_crash_action_names_its_target_kind) {
  BOOST_TEST((parse(R"({"model": "m", "action": "crash"})")->target == fault_target::model));
  BOOST_TEST((parse(R"({"model": "m", "action": "crash-batcher"})")->target == fault_target::batcher));
  BOOST_TEST((parse(R"({"model": "m", "action": "crash-step"})")->target == fault_target::step));
  BOOST_TEST((parse(R"({"model": "m", "action": "crash-pool"})")->target == fault_target::pool));
  BOOST_TEST((parse(R"({"model": "m", "target": "engine", "action": "crash"})")->target == fault_target::engine));
  BOOST_TEST((parse(R"({"actor": "router", "action": "crash"})")->target == fault_target::router));
}

BOOST_AUTO_TEST_CASE(slow_fail_and_fail_load_need_a_value_in_range) {
  auto slow = parse(R"({"model": "m", "action": "slow", "value": 250})");
  BOOST_REQUIRE(slow);
  BOOST_TEST((slow->action == fault_action::slow));
  BOOST_TEST(slow->value == 250);
  BOOST_TEST(problem_of(R"({"model": "m", "action": "slow"})").find("'value'") != std::string::npos);
  BOOST_TEST(problem_of(R"({"model": "m", "action": "fail", "value": -1})").find("'value'") != std::string::npos);
  BOOST_TEST(problem_of(R"({"model": "m", "action": "fail-load", "value": "2"})").find("'value'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_misspelt_key_an_unknown_action_or_a_misplaced_target_is_refused_by_name) {
  BOOST_TEST(problem_of(R"({"model": "m", "targt": "pool", "action": "crash"})").find("'targt'") != std::string::npos);
  BOOST_TEST(problem_of(R"({"model": "m", "action": "explode"})").find("'explode'") != std::string::npos);
  BOOST_TEST(problem_of(R"({"model": "m", "target": "pool", "action": "slow", "value": 5})").find("'target'") !=
             std::string::npos);
  BOOST_TEST(problem_of(R"({"model": "m", "target": "router", "action": "crash"})").find("'target'") !=
             std::string::npos);
  BOOST_TEST(problem_of(R"({"action": "crash"})").find("'model'") != std::string::npos);
  BOOST_TEST(problem_of(R"({"actor": "batcher", "action": "crash"})").find("router") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_fault_for_a_model_the_node_does_not_have_is_not_found) {
  fault_door door;
  fault f;
  f.model = "absent";
  f.action = fault_action::slow;
  auto problem = door.apply(f);
  BOOST_REQUIRE(problem.has_value());
  BOOST_TEST(to_string(problem->code) == "not_found");
  f.action = fault_action::crash;
  BOOST_TEST(door.apply(f).has_value(), "no child of it registered");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(fault_switches)

BOOST_AUTO_TEST_CASE(fail_next_n_fails_exactly_n_calls) {
  fault_switch sw;
  sw.fail_next(2);
  BOOST_TEST(sw.before_call().has_value());
  BOOST_TEST(sw.before_call().has_value());
  BOOST_TEST(!sw.before_call().has_value());
  sw.fail_next_loads(1);
  BOOST_TEST(sw.before_load().has_value());
  BOOST_TEST(!sw.before_load().has_value());
}

BOOST_AUTO_TEST_CASE(a_slowed_call_ends_at_once_when_healed) {
  fault_switch sw;
  sw.set_slow(std::chrono::hours(24));  // (a slow-down no one could wait out)
  auto call = std::async(std::launch::async, [&] { return sw.before_call(); });
  BOOST_TEST((call.wait_for(50ms) == std::future_status::timeout), "the call is being slowed down");
  sw.heal();
  BOOST_REQUIRE((call.wait_for(10s) == std::future_status::ready));
  BOOST_TEST(!call.get().has_value());
}

BOOST_AUTO_TEST_CASE(a_slowed_call_ends_at_once_at_shutdown) {
  fault_switch sw;
  sw.set_slow(std::chrono::hours(24));
  auto call = std::async(std::launch::async, [&] { return sw.before_call(); });
  BOOST_TEST((call.wait_for(50ms) == std::future_status::timeout));
  sw.shut_down();
  BOOST_TEST((call.wait_for(10s) == std::future_status::ready));
}

BOOST_AUTO_TEST_SUITE_END()
