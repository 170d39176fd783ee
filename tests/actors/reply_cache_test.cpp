#include <boost/test/unit_test.hpp>

#include "actors/reply_cache.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const reply_cache::clock::time_point t0 = reply_cache::clock::time_point{} + 1h;
using seen = reply_cache::seen;

reply answer(const std::string& id, const std::string& op = "classify") {
  reply r;
  r.id = id;
  r.op = op;
  r.ok = true;
  r.node = "n1";
  return r;
}

request grey(const std::string& id, const std::string& bytes = "grey pixels") {
  request r;
  r.id = id;
  r.image = shared_bytes::copy_of(bytes);
  return r;
}

const request_fingerprint same = fingerprint_of(grey("a"));

reply_cache::key classify(const std::string& id) { return {"classify", id}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(reply_cache_memory)

BOOST_AUTO_TEST_CASE(a_new_id_is_computed_and_a_repeat_in_flight_waits_for_the_same_answer) {
  reply_cache cache(100, 60s);
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0).verdict == seen::new_request));
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox.2", encoding::json}, t0).verdict == seen::in_flight));
  auto waiting = cache.complete(classify("a"), answer("a"), t0);
  BOOST_REQUIRE(waiting.size() == 1u);
  BOOST_TEST(waiting[0].reply_subject == "inbox.2");
  BOOST_TEST((waiting[0].enc == encoding::json));
}

BOOST_AUTO_TEST_CASE(a_repeat_after_the_answer_gets_it_again_until_the_ttl_passes) {
  reply_cache cache(100, 60s);
  cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0);
  cache.complete(classify("a"), answer("a"), t0);
  auto again = cache.admit(classify("a"), same, {"inbox.2", encoding::msgpack}, t0 + 59s);
  BOOST_TEST((again.verdict == seen::answered));
  BOOST_TEST(again.answer.id == "a");
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox.3", encoding::msgpack}, t0 + 61s).verdict == seen::new_request));
}

BOOST_AUTO_TEST_CASE(the_same_id_for_another_op_is_another_entry_with_its_own_answer) {
  reply_cache cache(100, 60s);
  cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0);
  cache.complete(classify("a"), answer("a", "classify"), t0);
  const reply_cache::key process{"process", "a"};
  BOOST_TEST((cache.admit(process, same, {"inbox.2", encoding::msgpack}, t0 + 1s).verdict == seen::new_request));
  cache.complete(process, answer("a", "process"), t0 + 1s);
  BOOST_TEST(cache.admit(process, same, {"inbox.3", encoding::msgpack}, t0 + 2s).answer.op == "process");
  BOOST_TEST(cache.admit(classify("a"), same, {"inbox.4", encoding::msgpack}, t0 + 2s).answer.op == "classify");
}

BOOST_AUTO_TEST_CASE(another_request_with_the_same_op_and_id_is_refused_in_flight_and_answered_naming_the_field) {
  reply_cache cache(100, 60s);
  cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0);
  const auto other_image = fingerprint_of(grey("a", "other pixels"));
  auto in_flight = cache.admit(classify("a"), other_image, {"inbox.2", encoding::msgpack}, t0);
  BOOST_TEST((in_flight.verdict == seen::other_request));
  BOOST_TEST(in_flight.differs_in == "image");
  BOOST_TEST(cache.complete(classify("a"), answer("a"), t0).empty(), "the refused request is not waiting for it");
  auto no_rotation = grey("a");
  no_rotation.auto_rotate = false;
  auto answered = cache.admit(classify("a"), fingerprint_of(no_rotation), {"inbox.3", encoding::msgpack}, t0 + 1s);
  BOOST_TEST((answered.verdict == seen::other_request));
  BOOST_TEST(answered.differs_in == "auto_rotate");
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox.4", encoding::msgpack}, t0 + 1s).verdict == seen::answered),
             "the first request's entry is untouched by the refusal");
}

BOOST_AUTO_TEST_CASE(a_retry_with_another_deadline_priority_and_reply_subject_is_answered_from_the_cache) {
  reply_cache cache(100, 60s);
  cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0);
  cache.complete(classify("a"), answer("a"), t0);
  auto retry = grey("a");
  retry.deadline_ms = 500;
  retry.priority = 9;
  retry.reply_to = "_INBOX.durable";
  auto again = cache.admit(classify("a"), fingerprint_of(retry), {"_INBOX.durable", encoding::json}, t0 + 1s);
  BOOST_TEST((again.verdict == seen::answered));
  BOOST_TEST(again.answer.id == "a");
}

BOOST_AUTO_TEST_CASE(a_forward_and_a_clients_request_with_the_same_op_and_id_never_share_an_entry) {
  reply_cache cache(100, 60s);
  cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0);
  cache.complete(classify("a"), answer("a"), t0);
  auto forward = grey("a");
  forward.rotation = 90;  // found on the node that forwards it
  const reply_cache::key forwarded{"classify", "a", true};
  BOOST_TEST((cache.admit(forwarded, fingerprint_of(forward), {"inbox.2", encoding::msgpack}, t0).verdict ==
              seen::new_request));
}

BOOST_AUTO_TEST_CASE(another_request_is_computed_once_the_first_ones_entry_is_gone) {
  reply_cache cache(100, 60s);
  cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0);
  cache.complete(classify("a"), answer("a"), t0);
  const auto other_image = fingerprint_of(grey("a", "other pixels"));
  BOOST_TEST((cache.admit(classify("a"), other_image, {"inbox.2", encoding::msgpack}, t0 + 61s).verdict ==
              seen::new_request));
}

BOOST_AUTO_TEST_CASE(transient_errors_are_not_remembered_so_a_retry_is_computed_afresh) {
  reply_cache cache(100, 60s);
  cache.admit(classify("a"), same, {"inbox.1", encoding::msgpack}, t0);
  cache.complete(classify("a"), reply::failed("a", "classify", error_code::overloaded, "full"), t0, false);
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox.2", encoding::msgpack}, t0 + 1s).verdict == seen::new_request));
}

BOOST_AUTO_TEST_CASE(the_oldest_answers_are_forgotten_beyond_the_bound) {
  reply_cache cache(2, 60s);
  for (const char* id : {"a", "b", "c"}) {
    cache.admit(classify(id), same, {"inbox", encoding::msgpack}, t0);
    cache.complete(classify(id), answer(id), t0);
  }
  BOOST_TEST(cache.size() == 2u);
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox", encoding::msgpack}, t0).verdict == seen::new_request));
  BOOST_TEST((cache.admit(classify("c"), same, {"inbox", encoding::msgpack}, t0).verdict == seen::answered));
}

BOOST_AUTO_TEST_CASE(repeats_of_a_request_in_flight_past_max_waiters_are_refused_and_not_held) {
  constexpr std::size_t max_waiters = 3;  // small, to count every one
  reply_cache cache(100, 60s, max_waiters);
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox.first", encoding::msgpack}, t0).verdict == seen::new_request));
  for (std::size_t i = 0; i < max_waiters; ++i)
    BOOST_TEST((cache.admit(classify("a"), same, {"inbox.held", encoding::msgpack}, t0).verdict == seen::in_flight));
  for (int i = 0; i < 1000; ++i)
    BOOST_TEST((cache.admit(classify("a"), same, {"inbox.refused", encoding::msgpack}, t0).verdict ==
                seen::too_many_waiters));
  const auto waiting = cache.complete(classify("a"), answer("a"), t0);
  BOOST_TEST(waiting.size() == max_waiters);
  for (const auto& w : waiting) BOOST_TEST(w.reply_subject == "inbox.held");
  // Once answered, a retry gets the answer from memory, however many came before.
  BOOST_TEST((cache.admit(classify("a"), same, {"inbox.later", encoding::msgpack}, t0 + 1s).verdict == seen::answered));
}

BOOST_AUTO_TEST_CASE(the_waiter_bound_is_per_request_so_another_id_still_waits) {
  reply_cache cache(100, 60s, 1);
  cache.admit(classify("a"), same, {"inbox", encoding::msgpack}, t0);
  cache.admit(classify("a"), same, {"inbox", encoding::msgpack}, t0);
  cache.admit(classify("b"), same, {"inbox", encoding::msgpack}, t0);
  BOOST_TEST((cache.admit(classify("b"), same, {"inbox", encoding::msgpack}, t0).verdict == seen::in_flight));
}

BOOST_AUTO_TEST_SUITE_END()
