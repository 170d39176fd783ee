#include <boost/test/unit_test.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "runtime/ingress_backlog.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

using verdict = ingress_backlog::verdict;
const ingress_backlog::clock::time_point t0 = ingress_backlog::clock::time_point{} + 1h;
constexpr std::size_t mb = 1u << 20;

}  // namespace

BOOST_AUTO_TEST_SUITE(ingress_backlog_bound)

BOOST_AUTO_TEST_CASE(admits_up_to_max_requests_and_sheds_the_next_until_one_is_decoded) {
  ingress_backlog backlog({3, 100 * mb});
  std::vector<ingress_backlog::admission> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(backlog.admit(1000, true, t0));
    BOOST_TEST((held.back().outcome == verdict::admitted));
  }
  BOOST_TEST(backlog.requests() == 3u);
  BOOST_TEST(backlog.bytes() == 3000u);
  BOOST_TEST((backlog.admit(1000, true, t0).outcome == verdict::backlog_full));
  held.front().ticket.release();  // the router decoded one
  BOOST_TEST((backlog.admit(1000, true, t0).outcome == verdict::admitted), "its place is free again");
  BOOST_TEST(backlog.shed() == 1u);
}

BOOST_AUTO_TEST_CASE(sheds_past_max_bytes_but_always_admits_a_request_alone) {
  ingress_backlog backlog({1000, 16 * mb});
  auto first = backlog.admit(8 * mb, true, t0);
  auto second = backlog.admit(8 * mb, true, t0);
  BOOST_TEST((first.outcome == verdict::admitted));
  BOOST_TEST((second.outcome == verdict::admitted), "exactly at the bound");
  BOOST_TEST((backlog.admit(1, true, t0).outcome == verdict::backlog_full));
  first.ticket.release();
  second.ticket.release();
  BOOST_TEST(backlog.bytes() == 0u);
  auto huge = backlog.admit(64 * mb, true, t0);
  BOOST_TEST((huge.outcome == verdict::admitted), "a request over the byte bound is admitted when nothing waits");
  BOOST_TEST((backlog.admit(1, true, t0).outcome == verdict::backlog_full));
}

BOOST_AUTO_TEST_CASE(a_message_without_a_reply_subject_is_dropped_and_takes_no_place) {
  ingress_backlog backlog({1, 1 * mb});
  for (int i = 0; i < 100; ++i) BOOST_TEST((backlog.admit(8 * mb, false, t0).outcome == verdict::no_reply_subject));
  BOOST_TEST(backlog.requests() == 0u);
  BOOST_TEST(backlog.dropped_without_reply() == 100u);
  BOOST_TEST((backlog.admit(100, true, t0).outcome == verdict::admitted));
}

BOOST_AUTO_TEST_CASE(a_ticket_dropped_with_its_message_frees_its_place_even_after_the_backlog_is_gone) {
  backlog_ticket survivor;
  {
    ingress_backlog backlog({1, 1 * mb});
    {
      auto a = backlog.admit(10, true, t0);
      backlog_ticket copy = a.ticket;  // CAF may copy a message: copies share one place
      a.ticket.release();
      BOOST_TEST(backlog.requests() == 1u, "a copy still holds it");
    }
    BOOST_TEST(backlog.requests() == 0u, "the last copy gone (message dropped unhandled)");
    survivor = backlog.admit(10, true, t0).ticket;
  }
  survivor.release();  // after the backlog object: must not touch freed memory (ASan would see it)
  BOOST_TEST(!survivor.place);
}

BOOST_AUTO_TEST_CASE(refusals_ask_for_one_log_line_per_kind_per_interval_with_the_count_since_the_last) {
  ingress_backlog backlog({1, 1 * mb}, 10s);
  auto held = backlog.admit(10, true, t0);
  auto first = backlog.admit(10, true, t0);
  BOOST_TEST(first.log_now);
  BOOST_TEST(first.unlogged == 1u);
  for (int i = 0; i < 500; ++i) BOOST_TEST(!backlog.admit(10, true, t0 + 5s).log_now);
  BOOST_TEST(backlog.admit(10, false, t0 + 5s).log_now, "the other kind has its own window");
  auto later = backlog.admit(10, true, t0 + 11s);
  BOOST_TEST(later.log_now);
  BOOST_TEST(later.unlogged == 501u);
}

BOOST_AUTO_TEST_CASE(many_threads_admitting_and_releasing_never_pass_the_bound_and_end_at_zero) {
  constexpr std::size_t bound = 8;
  ingress_backlog backlog({bound, 1000 * mb});
  std::atomic<std::size_t> most{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 20000; ++i) {
        auto a = backlog.admit(100, true);
        const auto now = backlog.requests();
        for (auto seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
        }
      }
    });
  for (auto& t : threads) t.join();
  BOOST_TEST(most.load() <= bound);
  BOOST_TEST(backlog.requests() == 0u);
  BOOST_TEST(backlog.bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(the_shed_message_names_the_node_and_both_config_keys) {
  ingress_backlog backlog({7, 3 * mb});
  const auto text = backlog.shed_message("n1");
  for (const char* part : {"'n1'", "node.max_backlog_requests", "node.max_backlog_bytes", "7"})
    BOOST_TEST(text.find(part) != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()
