#include <boost/test/unit_test.hpp>

#include "actors/batching_policy.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

using time_point = batching_policy::time_point;
const time_point t0 = time_point{} + 1h;  // any fixed origin: the policy only compares times
constexpr std::size_t max_batch = 4;
constexpr auto max_delay = 2ms;
constexpr std::size_t capacity = 8;

struct policy_fixture {
  batching_policy policy{batching_config{max_batch, max_delay, capacity}};
  std::uint64_t next = 0;

  /// Reserves and enqueues one request; returns its ticket.
  std::uint64_t add(time_point at, std::int64_t priority = 0, time_point deadline = time_point::max()) {
    BOOST_REQUIRE(policy.try_reserve());
    policy.push({next, priority, at, deadline});
    return next++;
  }
};

using tickets = std::vector<std::uint64_t>;

}  // namespace


BOOST_FIXTURE_TEST_SUITE(batching_policy, policy_fixture)

BOOST_AUTO_TEST_CASE(fires_a_full_batch_at_once_even_while_more_are_coming) {
  for (int i = 0; i < 4; ++i) add(t0);
  BOOST_REQUIRE(policy.try_reserve());  // a fifth request is still being preprocessed
  auto d = policy.poll(t0, true);
  BOOST_TEST(d.batch == (tickets{0, 1, 2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(fires_at_once_when_the_model_is_idle_and_nothing_else_is_coming) {
  add(t0);
  auto d = policy.poll(t0, true);
  BOOST_TEST(d.batch == (tickets{0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(waits_for_requests_being_preprocessed_until_the_oldest_waited_max_delay) {
  add(t0);
  BOOST_REQUIRE(policy.try_reserve());
  auto d = policy.poll(t0 + 1ms, true);
  BOOST_TEST(d.batch.empty());
  BOOST_REQUIRE(d.wake_at.has_value());
  BOOST_TEST((*d.wake_at == t0 + max_delay));
  d = policy.poll(t0 + max_delay, true);
  BOOST_TEST(d.batch == (tickets{0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(fires_a_partial_batch_when_the_last_reservation_is_cancelled) {
  add(t0);
  BOOST_REQUIRE(policy.try_reserve());
  BOOST_TEST(policy.poll(t0, true).batch.empty());
  policy.cancel_reservation();  // its image failed to decode: nothing else is coming
  BOOST_TEST(policy.poll(t0, true).batch == (tickets{0}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(accumulates_while_the_model_is_busy_and_fires_when_it_is_idle) {
  for (int i = 0; i < 3; ++i) add(t0);
  auto busy = policy.poll(t0 + 10ms, false);
  BOOST_TEST(busy.batch.empty());
  BOOST_TEST(!busy.wake_at.has_value());  // completion of the running batch will poll again
  auto idle = policy.poll(t0 + 11ms, true);
  BOOST_TEST(idle.batch.size() == 3u);
}

BOOST_AUTO_TEST_CASE(never_puts_more_than_max_batch_size_in_one_batch) {
  for (int i = 0; i < 7; ++i) add(t0);
  BOOST_TEST(policy.poll(t0, true).batch.size() == max_batch);
  BOOST_TEST(policy.poll(t0, true).batch.size() == 3u);
}

BOOST_AUTO_TEST_CASE(serves_higher_priority_first_and_fifo_within_a_priority) {
  add(t0, 0);       // 0
  add(t0, 5);       // 1
  add(t0, 0);       // 2
  add(t0, 5);       // 3
  add(t0, -1);      // 4
  add(t0, 9);       // 5
  auto first = policy.poll(t0, true);
  BOOST_TEST(first.batch == (tickets{5, 1, 3, 0}), boost::test_tools::per_element());
  auto second = policy.poll(t0, true);
  BOOST_TEST(second.batch == (tickets{2, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(refuses_past_capacity_counting_reserved_and_queued_requests) {
  for (std::size_t i = 0; i < capacity / 2; ++i) add(t0);
  for (std::size_t i = 0; i < capacity / 2; ++i) BOOST_TEST(policy.try_reserve());
  BOOST_TEST(!policy.try_reserve());
  policy.cancel_reservation();
  BOOST_TEST(policy.try_reserve());
}

BOOST_AUTO_TEST_CASE(frees_capacity_when_a_batch_is_taken) {
  for (std::size_t i = 0; i < capacity; ++i) add(t0);
  BOOST_TEST(!policy.try_reserve());
  BOOST_TEST(policy.poll(t0, true).batch.size() == max_batch);
  BOOST_TEST(policy.try_reserve());
}

BOOST_AUTO_TEST_CASE(drops_requests_whose_deadline_passed_before_compute) {
  add(t0, 0, t0 + 5ms);   // 0: expires
  add(t0, 0, t0 + 50ms);  // 1: still alive
  auto d = policy.poll(t0 + 6ms, false);
  BOOST_TEST(d.expired == (tickets{0}), boost::test_tools::per_element());
  BOOST_TEST(policy.queued() == 1u);
  BOOST_REQUIRE(d.wake_at.has_value());
  BOOST_TEST((*d.wake_at == t0 + 50ms));  // wakes for the next deadline even while busy
  BOOST_TEST(policy.poll(t0 + 7ms, true).batch == (tickets{1}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(an_empty_queue_needs_no_wake_up) {
  auto d = policy.poll(t0, true);
  BOOST_TEST(d.batch.empty());
  BOOST_TEST(d.expired.empty());
  BOOST_TEST(!d.wake_at.has_value());
}

BOOST_AUTO_TEST_CASE(a_request_that_must_run_alone_gets_a_batch_of_its_own) {
  add(t0);
  policy.requeue({100, 0, t0, time_point::max(), true});  // came back from a failed batch: isolate it
  add(t0);
  add(t0);
  BOOST_TEST(policy.poll(t0, true).batch == tickets({0}), "stops before the one that runs alone");
  BOOST_TEST(policy.poll(t0, true).batch == tickets({100}));
  BOOST_TEST(policy.poll(t0, true).batch == tickets({1, 2}));
}

BOOST_AUTO_TEST_CASE(requeued_requests_need_no_reservation_and_keep_their_priority) {
  for (int i = 0; i < static_cast<int>(capacity); ++i) add(t0);
  BOOST_TEST(!policy.try_reserve());
  policy.requeue({200, 9, t0, time_point::max(), false});  // the queue is full, but this one was admitted before
  BOOST_TEST(policy.queued() == capacity + 1);
  BOOST_TEST(policy.poll(t0, true).batch.front() == 200u);
}

BOOST_AUTO_TEST_SUITE_END()
