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

/// A step server that never answers its readiness probe: a build that ends, after the slot's ready_timeout,
/// as a failed load (the path of every failed build with a loaded version serving).
struct never_ready_state {
  std::vector<caf::typed_response_promise<bool>> pings;  // kept, never delivered
  static inline const char* name = "never-ready-step";
};
// Every test actor takes an argument: CAF 0.17 binds a null tuple when an actor is spawned with none (UBSan).
step_actor::behavior_type never_ready_step(step_actor::stateful_pointer<never_ready_state> self, int /*generation*/) {
  return {
      [](step_atom, const step_request&) { return step_reply::failed({error_code::internal, "not used"}); },
      [=](ping_atom) -> caf::result<bool> {
        auto p = self->make_response_promise<bool>();
        self->state.pings.push_back(p);
        return p;
      },
  };
}

/// A batcher that is ready at once (the slot asks its readiness and stats only).
batcher_actor::behavior_type test_batcher(int /*generation*/) {
  return {
      [](infer_atom, const infer_job&) { return item_result::failed(error_code::internal, "not used"); },
      [](stats_atom) { return batcher_stats{}; },
      [](ping_atom) { return true; },
  };
}

/// Groups built by a test: each generation's step answers after `delay`; released ones are recorded.
struct group_factory {
  explicit group_factory(caf::actor_system& s) : sys(s) {}
  caf::actor_system& sys;
  // Shared with the groups' on_release: a slot stopping at the fixture's end (after this factory is gone)
  // still releases its groups.
  std::shared_ptr<std::map<std::uint64_t, bool>> record = std::make_shared<std::map<std::uint64_t, bool>>();
  std::map<std::uint64_t, bool>& released = *record;  // generation -> released
  int builds = 0;

  group_builder builder(caf::timespan delay, bool fails = false) {
    return [this, delay, fails](std::uint64_t generation) -> outcome<slot_group> {
      ++builds;
      if (fails) return error{error_code::not_found, "no such file"};
      return make(generation, delay);
    };
  }
  /// Builds groups whose step actor is never ready (the slot fails the build after its ready_timeout).
  group_builder never_ready() {
    return [this](std::uint64_t generation) -> outcome<slot_group> {
      ++builds;
      slot_group g;
      g.step = sys.spawn(never_ready_step, static_cast<int>(generation));
      g.batcher = sys.spawn(test_batcher, static_cast<int>(generation));
      g.actors = {caf::actor_cast<caf::actor>(g.step), caf::actor_cast<caf::actor>(g.batcher)};
      released[generation] = false;
      g.on_release = [record = record, generation] { (*record)[generation] = true; };
      return g;
    };
  }
  slot_group make(std::uint64_t generation, caf::timespan delay) {
    slot_group g;
    g.step = sys.spawn(test_step, delay, static_cast<int>(generation));
    g.batcher = sys.spawn(test_batcher, static_cast<int>(generation));
    g.actors = {caf::actor_cast<caf::actor>(g.step), caf::actor_cast<caf::actor>(g.batcher)};
    released[generation] = false;
    g.on_release = [record = record, generation] { (*record)[generation] = true; };
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

/// A receive's way out: every reply a case waits for was delivered by the `run()` or `advance()` before it
/// (virtual time), so waiting 0 s more is enough; a missing reply fails the case instead of hanging it.
auto no_reply() {
  return caf::after(std::chrono::seconds(0)) >> [] { BOOST_FAIL("an expected reply did not arrive"); };
}

}  // namespace

BOOST_AUTO_TEST_SUITE(model_slot)

BOOST_FIXTURE_TEST_CASE(a_reload_sends_new_requests_to_the_new_group_and_releases_the_old_once_its_requests_are_answered,
                        test::virtual_time) {
  group_factory f{sys};
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
  }, no_reply());
  BOOST_TEST(!f.released[1], "not while it holds requests");
  self->send(slot, step_atom::value, step_request{});
  run();
  advance(new_delay);
  self->receive([](step_reply& r) { BOOST_TEST(generation_of(r) == 2, "a new request goes to the new group"); }, no_reply());
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
  }, no_reply());
}

BOOST_FIXTURE_TEST_CASE(a_reload_that_fails_answers_the_error_and_the_old_group_keeps_serving, test::virtual_time) {
  group_factory f{sys};
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
  }, no_reply());
  self->send(slot, step_atom::value, step_request{});
  run();
  advance(old_delay);
  self->receive([](step_reply& r) { BOOST_TEST(generation_of(r) == 1); }, no_reply());
  BOOST_TEST(!f.released[1]);
}

BOOST_FIXTURE_TEST_CASE(an_unloaded_model_answers_unavailable_until_it_is_loaded_again, test::virtual_time) {
  group_factory f{sys};
  auto s = slot_setup(f);
  s.first = f.make(1, old_delay);
  std::vector<bool> health;
  s.on_state = [&](slot_phase phase) { health.push_back(phase != slot_phase::unloaded); };
  auto slot = keep(spawn_model_slot(sys, std::move(s)));
  run();
  self->send(slot, unload_atom::value);
  run();
  self->receive([](slot_answer& a) { BOOST_TEST(a.status.state == "unloaded"); BOOST_TEST(!a.status.loaded); }, no_reply());
  BOOST_TEST(f.released[1]);
  BOOST_TEST(health == (std::vector<bool>{true, false}), boost::test_tools::per_element());
  self->send(slot, step_atom::value, step_request{});
  run();
  self->receive([](step_reply& r) {
    BOOST_REQUIRE(r.failure);
    BOOST_TEST((r.failure->code == error_code::unavailable));
    BOOST_TEST(r.failure->message == "model 'm' is unloaded");
  }, no_reply());
  self->send(slot, load_atom::value);
  run();
  self->receive([](slot_answer& a) { BOOST_TEST(!a.failure); BOOST_TEST(a.status.state == "serving"); }, no_reply());
  BOOST_TEST(health.back());
  self->send(slot, step_atom::value, step_request{});
  run();
  advance(old_delay);
  self->receive([](step_reply& r) { BOOST_TEST(!r.failure); BOOST_TEST(generation_of(r) == 2); }, no_reply());
}

BOOST_FIXTURE_TEST_CASE(a_request_for_an_evicted_model_loads_it_and_the_least_recently_used_idle_one_is_released,
                        test::virtual_time) {
  group_factory f{sys};
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
    self->receive([&](slot_status& st) { out = st; }, no_reply());
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

BOOST_FIXTURE_TEST_CASE(a_reload_that_fails_while_another_model_waits_for_room_lets_the_cache_release_it_then,
                        test::virtual_time) {
  // max_loaded_models 1: a serves and reloads (the new version never becomes ready), a request for b arrives
  // during that reload. a refuses to be released while it loads; once the reload fails, a is idle again and
  // the cache must ask it again, or b stays "loading" for ever.
  group_factory f{sys};
  auto cache = keep(spawn_model_cache(sys, 1));
  auto sa = slot_setup(f, "a");
  sa.first = f.make(100, new_delay);
  sa.cache = cache;
  sa.ready_timeout = 1s;
  auto a = keep(spawn_model_slot(sys, std::move(sa)));
  auto sb = slot_setup(f, "b");
  sb.source = {"1", f.builder(new_delay)};
  sb.cache = cache;
  auto b = keep(spawn_model_slot(sys, std::move(sb)));
  run();
  self->send(a, reload_atom::value, slot_source{"2", f.never_ready()});
  run();
  self->send(b, step_atom::value, step_request{});
  run();
  BOOST_TEST(!f.released[100], "a is reloading: it keeps its version");
  advance(1s);  // a's new version is not ready in time: the reload fails
  self->receive([](slot_answer& ans) { BOOST_TEST(ans.failure.has_value(), "the reload failed"); },
                caf::after(0s) >> [] { BOOST_FAIL("the reload was not answered"); });
  advance(new_delay);
  self->receive([](step_reply& r) { BOOST_TEST(!r.failure, "b loaded once a was released"); },
                caf::after(0s) >> [] { BOOST_FAIL("the request for b was not answered: b is stuck loading"); });
  BOOST_TEST(f.released[100], "a was released to make room once its reload had failed");
}

BOOST_FIXTURE_TEST_CASE(a_load_that_gets_no_room_in_time_answers_its_waiting_requests_unavailable, test::virtual_time) {
  // max_loaded_models 1 and a stays busy (its step takes far longer than b's admission may wait).
  constexpr auto busy_for = std::chrono::minutes(10);
  constexpr auto admit_timeout = std::chrono::seconds(5);
  group_factory f{sys};
  auto cache = keep(spawn_model_cache(sys, 1));
  auto sa = slot_setup(f, "a");
  sa.first = f.make(100, busy_for);
  sa.cache = cache;
  auto a = keep(spawn_model_slot(sys, std::move(sa)));
  auto sb = slot_setup(f, "b");
  sb.source = {"1", f.builder(new_delay)};
  sb.cache = cache;
  sb.admit_timeout = admit_timeout;
  auto b = keep(spawn_model_slot(sys, std::move(sb)));
  run();
  self->send(a, step_atom::value, step_request{});
  run();
  self->send(b, step_atom::value, step_request{});
  run();
  advance(admit_timeout);
  self->receive(
      [](step_reply& r) {
        BOOST_REQUIRE(r.failure);
        BOOST_TEST((r.failure->code == error_code::unavailable));
        BOOST_TEST(r.failure->message.find("max_loaded_models") != std::string::npos, r.failure->message);
      },
      caf::after(0s) >> [] { BOOST_FAIL("the request waiting for b's load was not answered"); });
  self->send(b, status_atom::value);
  run();
  self->receive([](slot_status& st) { BOOST_TEST(st.state == "evicted"); BOOST_TEST(!st.loaded); },
                caf::after(0s) >> [] { BOOST_FAIL("no status"); });
  BOOST_TEST(f.builds == 0, "b never loaded");
}

BOOST_FIXTURE_TEST_CASE(a_failed_load_after_an_unload_under_max_loaded_models_publishes_evicted, test::virtual_time) {
  // Unloaded, then a `load` whose build fails: with the model cache the slot ends evicted (loads on demand),
  // and it must say so, or the node would keep it out of service as unloaded.
  group_factory f{sys};
  auto cache = keep(spawn_model_cache(sys, 1));
  auto s = slot_setup(f);
  s.first = f.make(1, old_delay);
  s.source = {"1", f.builder(old_delay, true)};  // every later load fails
  s.cache = cache;
  std::vector<slot_phase> phases;
  s.on_state = [&](slot_phase phase) { phases.push_back(phase); };
  auto slot = keep(spawn_model_slot(sys, std::move(s)));
  run();
  self->send(slot, unload_atom::value);
  run();
  self->receive([](slot_answer& a) { BOOST_TEST(a.status.state == "unloaded"); }, caf::after(0s) >> [] { BOOST_FAIL("no answer"); });
  self->send(slot, load_atom::value);
  run();
  self->receive([](slot_answer& a) { BOOST_TEST(a.failure.has_value()); BOOST_TEST(a.status.state == "evicted"); },
                caf::after(0s) >> [] { BOOST_FAIL("no answer"); });
  BOOST_REQUIRE(!phases.empty());
  BOOST_TEST((phases.back() == slot_phase::evicted), "the last phase published is evicted");
}

BOOST_FIXTURE_TEST_CASE(a_second_load_while_one_is_under_way_is_answered_unavailable_at_once, test::virtual_time) {
  group_factory f{sys};
  auto s = slot_setup(f);
  s.source = {"1", f.never_ready()};  // the load stays under way (ready_timeout is far off)
  s.start_unloaded = true;
  auto slot = keep(spawn_model_slot(sys, std::move(s)));
  run();
  self->send(slot, load_atom::value);
  run();
  self->send(slot, load_atom::value);
  run();
  self->receive(
      [](slot_answer& a) {
        BOOST_REQUIRE(a.failure);
        BOOST_TEST((a.failure->code == error_code::unavailable));
        BOOST_TEST(a.status.state == "loading");
      },
      caf::after(0s) >> [] { BOOST_FAIL("the second load was not answered: it waits with the first"); });
}

BOOST_FIXTURE_TEST_CASE(a_request_waiting_for_a_load_is_answered_deadline_exceeded_when_its_deadline_passes_and_frees_its_place,
                        test::virtual_time) {
  // The model loads for longer than the requests may wait (its build is never ready; ready_timeout is far off).
  constexpr std::size_t capacity = 2;
  constexpr auto short_wait = 1s, long_wait = 10s;
  group_factory f{sys};
  auto s = slot_setup(f);
  s.source = {"1", f.never_ready()};  // no `first`: starts evicted, loads on the first request
  s.queue_capacity = capacity;
  auto slot = keep(spawn_model_slot(sys, std::move(s)));
  run();
  step_request soon, later;
  soon.deadline = now() + short_wait;
  later.deadline = now() + long_wait;
  self->send(slot, step_atom::value, soon);
  self->send(slot, step_atom::value, later);
  run();
  auto expect_deadline_exceeded = [&](const char* which) {
    self->receive(
        [&](step_reply& r) {
          BOOST_REQUIRE_MESSAGE(r.failure, which);
          BOOST_TEST((r.failure->code == error_code::deadline_exceeded), which << ": " << r.failure->message);
        },
        caf::after(0s) >> [&] { BOOST_FAIL(which << " was not answered when its deadline passed"); });
  };
  advance(short_wait);
  expect_deadline_exceeded("the request with the short deadline");
  // Its place is free again: a third request waits (not `overloaded`).
  self->send(slot, step_atom::value, step_request{});
  run();
  self->receive([](step_reply& r) { BOOST_FAIL("answered while the model loads: " << (r.failure ? r.failure->message : "ok")); },
                caf::after(0s) >> [] {});
  advance(long_wait - short_wait);
  expect_deadline_exceeded("the request with the long deadline");
}

BOOST_AUTO_TEST_SUITE_END()
