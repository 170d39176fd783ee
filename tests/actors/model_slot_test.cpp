// The model slot on CAF's virtual time: a reload switches new requests to the new group while the old one
// finishes what it holds and is then released; a failed reload keeps the old group serving; an unloaded
// model answers `unavailable` until it is loaded again; under max_loaded_models a request for an evicted
// model loads it and the least recently used idle one is released.

#include <boost/test/unit_test.hpp>

#include <map>
#include <memory>

#include "actors/model_cache.hpp"
#include "actors/model_slot.hpp"
#include "support/virtual_time.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// A step server that answers each step after `delay` of virtual time, with `total_pages` = its generation.
using test_step_impl = step_actor::extend<caf::reacts_to<wake_atom, std::uint64_t>>;
struct test_step_state {
  test::deferred_answers<step_reply> answers;
  static inline const char* name = "test-step";
};
test_step_impl::behavior_type test_step(test_step_impl::stateful_pointer<test_step_state> self, caf::timespan delay,
                                        int generation) {
  return {
      [=](step_atom, const step_request&) -> caf::result<step_reply> {
        auto p = self->make_response_promise<step_reply>();
        self->delayed_send(self, delay, wake_atom::value, self->state.answers.keep(p));
        return p;
      },
      [](ping_atom) { return true; },
      [=](wake_atom, std::uint64_t ticket) {
        step_reply r;
        r.total_pages = generation;
        self->state.answers.deliver(ticket, std::move(r));
      },
  };
}

/// A batcher that is ready at once (the slot asks its readiness and stats only).
batcher_actor::behavior_type test_batcher() {
  return {
      [](infer_atom, const infer_job&) { return item_result::failed(error_code::internal, "not used"); },
      [](stats_atom) { return batcher_stats{}; },
      [](ping_atom) { return true; },
  };
}

/// Groups built by a test: each generation's step answers after `delay`; released ones are recorded.
struct group_factory {
  caf::actor_system& sys;
  std::map<std::uint64_t, bool> released;  // generation -> released
  int builds = 0;

  group_builder builder(caf::timespan delay, bool fails = false) {
    return [this, delay, fails](std::uint64_t generation) -> outcome<slot_group> {
      ++builds;
      if (fails) return error{error_code::not_found, "no such file"};
      return make(generation, delay);
    };
  }
  slot_group make(std::uint64_t generation, caf::timespan delay) {
    slot_group g;
    g.step = sys.spawn(test_step, delay, static_cast<int>(generation));
    g.batcher = sys.spawn(test_batcher);
    g.actors = {caf::actor_cast<caf::actor>(g.step), caf::actor_cast<caf::actor>(g.batcher)};
    released[generation] = false;
    g.on_release = [this, generation] { released[generation] = true; };
    return g;
  }
};

/// How long the first group's steps take, and the new one's (shorter, so the new one answers first).
constexpr auto old_delay = std::chrono::milliseconds(10);
constexpr auto new_delay = std::chrono::milliseconds(1);

model_slot_setup slot_setup(group_factory& f, const std::string& name = "m") {
  model_slot_setup s;
  s.model_name = name;
  s.source = {"1", f.builder(old_delay)};
  s.build_detached = false;  // the helper runs on the test scheduler
  return s;
}

int generation_of(const step_reply& r) { return r.total_pages; }

}  // namespace

BOOST_AUTO_TEST_SUITE(model_slot)

BOOST_FIXTURE_TEST_CASE(a_reload_sends_new_requests_to_the_new_group_and_releases_the_old_once_its_requests_are_answered,
                        test::virtual_time) {
  group_factory f{sys, {}, 0};
  auto s = slot_setup(f);
  s.first = f.make(1, old_delay);
  auto slot = keep(spawn_model_slot(sys, std::move(s)));
  run();
  for (int i = 0; i < 2; ++i) self->send(slot, step_atom::value, step_request{});
  run();
  self->send(slot, reload_atom::value, slot_source{"2", f.builder(new_delay)});
  run();
  self->receive([](slot_answer& a) {
    BOOST_TEST(!a.failure);
    BOOST_TEST(a.status.version == "2");
    BOOST_TEST(a.status.in_flight == 2u, "the old group still holds its two requests");
  });
  BOOST_TEST(!f.released[1], "not while it holds requests");
  self->send(slot, step_atom::value, step_request{});
  run();
  advance(new_delay);
  self->receive([](step_reply& r) { BOOST_TEST(generation_of(r) == 2, "a new request goes to the new group"); });
  advance(old_delay);
  for (int i = 0; i < 2; ++i)
    self->receive([](step_reply& r) { BOOST_TEST(generation_of(r) == 1, "requests in flight finish on the old group"); },
                  caf::after(0s) >> [] { BOOST_FAIL("a request in flight on the old group was lost"); });
  BOOST_TEST(f.released[1], "the old group is released once drained");
  BOOST_TEST(!f.released[2]);
  self->send(slot, status_atom::value);
  run();
  self->receive([](slot_status& st) {
    BOOST_TEST(st.state == "serving");
    BOOST_TEST(st.loads == 2u);
    BOOST_TEST(st.in_flight == 0u);
  });
}

BOOST_FIXTURE_TEST_CASE(a_reload_that_fails_answers_the_error_and_the_old_group_keeps_serving, test::virtual_time) {
  group_factory f{sys, {}, 0};
  auto s = slot_setup(f);
  s.first = f.make(1, old_delay);
  auto slot = keep(spawn_model_slot(sys, std::move(s)));
  run();
  self->send(slot, reload_atom::value, slot_source{"2", f.builder(new_delay, true)});
  run();
  self->receive([](slot_answer& a) {
    BOOST_REQUIRE(a.failure);
    BOOST_TEST(a.failure->message.find("no such file") != std::string::npos, a.failure->message);
    BOOST_TEST(a.status.version == "1");
    BOOST_TEST(a.status.state == "serving");
  });
  self->send(slot, step_atom::value, step_request{});
  run();
  advance(old_delay);
  self->receive([](step_reply& r) { BOOST_TEST(generation_of(r) == 1); });
  BOOST_TEST(!f.released[1]);
}

BOOST_FIXTURE_TEST_CASE(an_unloaded_model_answers_unavailable_until_it_is_loaded_again, test::virtual_time) {
  group_factory f{sys, {}, 0};
  auto s = slot_setup(f);
  s.first = f.make(1, old_delay);
  std::vector<bool> health;
  s.on_health = [&](bool serving) { health.push_back(serving); };
  auto slot = keep(spawn_model_slot(sys, std::move(s)));
  run();
  self->send(slot, unload_atom::value);
  run();
  self->receive([](slot_answer& a) { BOOST_TEST(a.status.state == "unloaded"); BOOST_TEST(!a.status.loaded); });
  BOOST_TEST(f.released[1]);
  BOOST_TEST(health == (std::vector<bool>{true, false}), boost::test_tools::per_element());
  self->send(slot, step_atom::value, step_request{});
  run();
  self->receive([](step_reply& r) {
    BOOST_REQUIRE(r.failure);
    BOOST_TEST((r.failure->code == error_code::unavailable));
    BOOST_TEST(r.failure->message == "model 'm' is unloaded");
  });
  self->send(slot, load_atom::value);
  run();
  self->receive([](slot_answer& a) { BOOST_TEST(!a.failure); BOOST_TEST(a.status.state == "serving"); });
  BOOST_TEST(health.back());
  self->send(slot, step_atom::value, step_request{});
  run();
  advance(old_delay);
  self->receive([](step_reply& r) { BOOST_TEST(!r.failure); BOOST_TEST(generation_of(r) == 2); });
}

BOOST_FIXTURE_TEST_CASE(a_request_for_an_evicted_model_loads_it_and_the_least_recently_used_idle_one_is_released,
                        test::virtual_time) {
  group_factory f{sys, {}, 0};
  auto cache = keep(spawn_model_cache(sys, 1));
  auto sa = slot_setup(f, "a");
  sa.first = f.make(100, new_delay);
  sa.cache = cache;
  auto a = keep(spawn_model_slot(sys, std::move(sa)));
  auto sb = slot_setup(f, "b");
  sb.source = {"1", f.builder(new_delay)};
  sb.cache = cache;  // no `first`: starts evicted
  auto b = keep(spawn_model_slot(sys, std::move(sb)));
  run();
  self->send(b, step_atom::value, step_request{});
  run();
  advance(new_delay);
  self->receive([](step_reply& r) { BOOST_TEST(!r.failure, "answered once b loaded"); },
                caf::after(0s) >> [] { BOOST_FAIL("the request for b was not answered"); });
  BOOST_TEST(f.released[100], "a was released to make room");
  auto status = [&](model_slot_actor slot) {
    self->send(slot, status_atom::value);
    run();
    slot_status out;
    self->receive([&](slot_status& st) { out = st; });
    return out;
  };
  BOOST_TEST(status(a).state == "evicted");
  BOOST_TEST(status(a).evictions == 1u);
  BOOST_TEST(status(b).loaded);
  BOOST_TEST(status(b).loads == 1u);
  self->send(a, step_atom::value, step_request{});
  run();
  advance(old_delay);  // a's source builds groups whose steps take old_delay
  self->receive([](step_reply& r) { BOOST_TEST(!r.failure, "a loads again, b goes"); },
                caf::after(0s) >> [] { BOOST_FAIL("the request for a was not answered"); });
  BOOST_TEST(status(b).state == "evicted");
  BOOST_TEST(status(a).loads == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
