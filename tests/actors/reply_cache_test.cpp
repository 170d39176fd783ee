#include <boost/test/unit_test.hpp>

#include "actors/reply_cache.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const reply_cache::clock::time_point t0 = reply_cache::clock::time_point{} + 1h;

reply answer(const std::string& id) {
  reply r;
  r.id = id;
  r.ok = true;
  r.node = "n1";
  return r;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(reply_cache_memory)

BOOST_AUTO_TEST_CASE(a_new_id_is_computed_and_a_repeat_in_flight_waits_for_the_same_answer) {
  reply_cache cache(100, 60s);
  reply out;
  BOOST_TEST((cache.admit("a", {"inbox.1", encoding::msgpack}, t0, &out) == reply_cache::seen::new_id));
  BOOST_TEST((cache.admit("a", {"inbox.2", encoding::json}, t0, &out) == reply_cache::seen::in_flight));
  auto waiting = cache.complete("a", answer("a"), t0);
  BOOST_REQUIRE(waiting.size() == 1u);
  BOOST_TEST(waiting[0].reply_subject == "inbox.2");
  BOOST_TEST((waiting[0].enc == encoding::json));
}

BOOST_AUTO_TEST_CASE(a_repeat_after_the_answer_gets_it_again_until_the_ttl_passes) {
  reply_cache cache(100, 60s);
  reply out;
  cache.admit("a", {"inbox.1", encoding::msgpack}, t0, &out);
  cache.complete("a", answer("a"), t0);
  BOOST_TEST((cache.admit("a", {"inbox.2", encoding::msgpack}, t0 + 59s, &out) == reply_cache::seen::answered));
  BOOST_TEST(out.id == "a");
  BOOST_TEST((cache.admit("a", {"inbox.3", encoding::msgpack}, t0 + 61s, &out) == reply_cache::seen::new_id));
}

BOOST_AUTO_TEST_CASE(transient_errors_are_not_remembered_so_a_retry_is_computed_afresh) {
  reply_cache cache(100, 60s);
  reply out;
  cache.admit("a", {"inbox.1", encoding::msgpack}, t0, &out);
  cache.complete("a", reply::failed("a", "classify", error_code::overloaded, "full"), t0, false);
  BOOST_TEST((cache.admit("a", {"inbox.2", encoding::msgpack}, t0 + 1s, &out) == reply_cache::seen::new_id));
}

BOOST_AUTO_TEST_CASE(the_oldest_answers_are_forgotten_beyond_the_bound) {
  reply_cache cache(2, 60s);
  reply out;
  for (const char* id : {"a", "b", "c"}) {
    cache.admit(id, {"inbox", encoding::msgpack}, t0, &out);
    cache.complete(id, answer(id), t0);
  }
  BOOST_TEST(cache.size() == 2u);
  BOOST_TEST((cache.admit("a", {"inbox", encoding::msgpack}, t0, &out) == reply_cache::seen::new_id));
  BOOST_TEST((cache.admit("c", {"inbox", encoding::msgpack}, t0, &out) == reply_cache::seen::answered));
}

BOOST_AUTO_TEST_SUITE_END()
