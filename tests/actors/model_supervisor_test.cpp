// The model supervisor on CAF's virtual time: a dead model actor is replaced after its back-off, past its
// restart intensity the model is unhealthy and answers unavailable, and a replacement that loads longer than
// the loading grace gates the node until it serves. The model actors here are scheduled test models (the
// real one is detached, so it would run on real time), which load for a given virtual time.

#include <boost/test/unit_test.hpp>

#include "actors/model_supervisor.hpp"
#include "support/virtual_time.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

using test_model_impl = model_actor::extend<caf::reacts_to<wake_atom, std::uint64_t>>;

struct test_model_state {
  bool loaded = false;
  std::vector<caf::typed_response_promise<bool>> waiting;  // pings before it loaded
  static inline const char* name = "test-model";
};

/// A model that is loaded `load` after it starts and answers every batch with one score per item.
test_model_impl::behavior_type test_model(test_model_impl::stateful_pointer<test_model_state> self, caf::timespan load) {
  if (load.count() == 0) self->state.loaded = true;
  else self->delayed_send(self, load, wake_atom::value, std::uint64_t{0});
  return {
      [=](run_atom, const tensor_batch& batch) -> batch_run_result {
        return {std::nullopt, {batch.count, 1, std::vector<float>(batch.count, 1.0f)}, 2.0, false};
      },
      [=](ping_atom) -> caf::result<bool> {
        if (self->state.loaded) return true;
        auto p = self->make_response_promise<bool>();
        self->state.waiting.push_back(p);
        return p;
      },
      [=](wake_atom, std::uint64_t) {
        self->state.loaded = true;
        for (auto& p : self->state.waiting) p.deliver(true);
        self->state.waiting.clear();
      },
  };
}

/// 2 restarts within 10 s; back-off 100 ms doubling to 400 ms; loading grace 1 s.
supervision_config two_in_ten_seconds() { return {2, 10000ms, 100ms, 400ms, 3, 1000ms}; }

struct supervisor_fixture : test::virtual_time {
  caf::timespan replacement_load = caf::timespan{0};
  int spawned_models = 0;
  std::vector<bool> health_reports;
  caf::actor current;  // the model actor now running
  supervised_model_actor supervisor;

  explicit supervisor_fixture(supervision_config config = two_in_ten_seconds()) {
    model_supervisor_setup s;
    s.model_name = "m";
    s.supervision = config;
    s.first = sys.spawn(test_model, caf::timespan{0});
    s.respawn = [this] {
      ++spawned_models;
      return model_actor{sys.spawn(test_model, replacement_load)};
    };
    s.on_health = [this](bool healthy) { health_reports.push_back(healthy); };
    s.on_spawned = [this](const caf::actor& a) { current = a; };
    supervisor = keep(spawn_model_supervisor(sys, std::move(s)));
    run();
    BOOST_TEST(health_reports == std::vector<bool>{true}, boost::test_tools::per_element());
    health_reports.clear();  // (a fresh supervisor says where it stands once; the tests look at changes)
  }

  void kill_model() {
    caf::anon_send_exit(current, caf::exit_reason::kill);
    run();
  }

  child_status status() {
    child_status out;
    self->send(supervisor, status_atom::value);
    run();
    self->receive([&](child_status& s) { out = std::move(s); }, caf::after(0s) >> [] { BOOST_FAIL("no status"); });
    return out;
  }

  /// Sends a batch of one; its answer is read by `answer()` once it came.
  void send_batch() {
    self->send(supervisor, run_atom::value, tensor_batch{1, {3, 1, 1}, std::vector<float>(3)});
    run();
  }
  std::optional<batch_run_result> answer() {
    std::optional<batch_run_result> out;
    self->receive([&](batch_run_result& r) { out = std::move(r); }, caf::after(0s) >> [] {});
    return out;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(model_supervisor)

BOOST_FIXTURE_TEST_CASE(a_dead_model_is_replaced_once_its_back_off_of_virtual_time_has_passed, supervisor_fixture) {
  BOOST_TEST(status().state == life_state::serving);
  kill_model();
  BOOST_TEST(status().state == life_state::restarting);
  advance(99ms);
  BOOST_TEST(spawned_models == 0, "the back-off is 100 ms");
  advance(1ms);
  BOOST_TEST(spawned_models == 1);
  const auto s = status();
  BOOST_TEST(s.state == life_state::serving);
  BOOST_TEST(s.restarts == 1u);
  BOOST_TEST(health_reports.empty(), "a quick restart never gates the node");
}

BOOST_FIXTURE_TEST_CASE(a_batch_sent_while_the_model_restarts_waits_and_is_run_by_the_replacement, supervisor_fixture) {
  kill_model();
  send_batch();
  BOOST_TEST(!answer().has_value(), "held while no model serves");
  advance(100ms);
  auto r = answer();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(!r->failure.has_value());
  BOOST_TEST(r->scores.count == 1u);
}

BOOST_FIXTURE_TEST_CASE(back_off_doubles_and_past_the_intensity_the_model_is_unhealthy_and_refuses, supervisor_fixture) {
  kill_model();
  advance(100ms);
  kill_model();
  advance(199ms);
  BOOST_TEST(spawned_models == 1, "the second back-off is 200 ms");
  advance(1ms);
  BOOST_TEST(spawned_models == 2);
  kill_model();  // the third death within 10 s: one more than max_restarts
  BOOST_TEST(status().state == life_state::unhealthy);
  BOOST_TEST(health_reports == std::vector<bool>{false}, boost::test_tools::per_element());
  send_batch();
  auto refused = answer();
  BOOST_REQUIRE(refused.has_value());
  BOOST_REQUIRE(refused->failure.has_value());
  BOOST_TEST(to_string(refused->failure->code) == "unavailable");
  advance(9999ms);
  BOOST_TEST(spawned_models == 2, "unhealthy: one try per period (10 s)");
  advance(1ms);
  BOOST_TEST(spawned_models == 3);
  BOOST_TEST(status().state == life_state::serving);
  BOOST_TEST(health_reports == (std::vector<bool>{false, true}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(a_replacement_loading_past_the_grace_gates_the_node_until_it_serves, supervisor_fixture) {
  replacement_load = 5s;
  kill_model();
  send_batch();
  advance(100ms);  // the replacement starts loading (5 s)
  advance(899ms);
  BOOST_TEST(health_reports.empty(), "within the loading grace requests just wait");
  advance(1ms);
  BOOST_TEST(health_reports == std::vector<bool>{false}, boost::test_tools::per_element());
  BOOST_TEST(!status().healthy);
  BOOST_TEST(!answer().has_value(), "the batch is kept while the replacement loads");
  advance(4100ms);  // it loaded 5 s after it started
  BOOST_TEST(health_reports == (std::vector<bool>{false, true}), boost::test_tools::per_element());
  auto r = answer();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(!r->failure.has_value());
}

BOOST_FIXTURE_TEST_CASE(a_batch_whose_model_crashes_running_it_is_answered_model_died, supervisor_fixture) {
  // A model whose forward pass throws (as a CUDA error would): the actor dies, and the batch's answer says so.
  auto crashing = sys.spawn([](caf::event_based_actor*, int) -> caf::behavior {
    return {[](ping_atom) { return true; },
            [](run_atom, const tensor_batch&) -> batch_run_result { throw std::runtime_error("device lost"); }};
  }, 0);
  supervisor_fixture& f = *this;
  model_supervisor_setup s;
  s.model_name = "crashing";
  s.supervision = two_in_ten_seconds();
  s.first = caf::actor_cast<model_actor>(crashing);
  s.respawn = [&f] { return model_actor{f.sys.spawn(test_model, caf::timespan{0})}; };
  auto sup = keep(spawn_model_supervisor(sys, std::move(s)));
  run();
  self->send(sup, run_atom::value, tensor_batch{1, {3, 1, 1}, std::vector<float>(3)});
  run();
  auto r = answer();
  BOOST_REQUIRE(r.has_value());
  BOOST_TEST(r->model_died);
  BOOST_TEST(to_string(r->failure->code) == "internal");
}

BOOST_AUTO_TEST_SUITE_END()
