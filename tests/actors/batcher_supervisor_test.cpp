#include <boost/test/unit_test.hpp>

#include <atomic>

#include "actors/batcher_supervisor.hpp"
#include "actors/fault_door.hpp"
#include "actors/model_actor.hpp"
#include "actors/preprocessor.hpp"
#include "models/synthetic_model.hpp"
#include "support/model_group.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// A batcher group (synthetic model, 50 ms per batch) under its supervisor, crashed through a fault door;
/// `respawn` counts replacements.
struct group_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  fault_door door;
  preprocess_actor pool;
  model_config mc;
  batcher_setup bs;
  batcher_actor supervisor;
  std::atomic<int> respawned{0};
  std::atomic<int> unhealthy_reports{0};
  std::atomic<int> healthy_reports{0};

  explicit group_fixture(supervision_config supervision) {
    mc.name = "synthetic";
    mc.labels = {"a", "b", "c"};
    mc.synthetic.latency = 50ms;
    mc.input.width = mc.input.height = 32;
    pool = spawn_preprocessor_pool(sys, 2);
    bs = batcher_setup{"synthetic", {4, 1ms, 64}, mc.input, fresh_model(), pool, supervision.max_attempts, {}};
    batcher_supervisor_setup s{"synthetic", supervision, spawn_batcher(sys, bs), {}, {}, {},
                               door.spawned_hook("synthetic", fault_target::batcher)};
    s.respawn = [this] {
      ++respawned;
      auto b = bs;
      b.model = fresh_model();
      return spawn_batcher(sys, b);
    };
    s.on_health = [this](bool healthy) { ++(healthy ? healthy_reports : unhealthy_reports); };
    supervisor = spawn_batcher_supervisor(sys, std::move(s));
  }
  ~group_fixture() {
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(pool, caf::exit_reason::user_shutdown);
  }

  supervised_model_actor fresh_model() { return test::supervised_model(sys, std::make_shared<synthetic_model>(mc)); }

  infer_job job() {
    static const std::string bytes = test::read_file(test::sample_image("receipt.jpg"));
    return {shared_bytes::copy_of(bytes), 0, std::chrono::steady_clock::now(), steady_time::max()};
  }

  void crash_batcher() {
    fault f;
    f.model = "synthetic";
    f.target = fault_target::batcher;
    // The door knows a batcher once it was spawned; the supervisor is ready once its batcher serves.
    caf::scoped_actor self{sys};
    self->request(supervisor, 30s, ping_atom::value).receive([](bool) {}, [](caf::error&) { BOOST_FAIL("not ready"); });
    BOOST_REQUIRE(!door.apply(f));
  }
};

/// `max_restarts` within a minute, restarts after 1 ms.
supervision_config quick(int max_restarts) { return {max_restarts, 60s, 1ms, 1ms}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(batcher_supervisor)

BOOST_AUTO_TEST_CASE(jobs_the_dead_batcher_held_are_answered_by_its_replacement) {
  group_fixture g(quick(10));
  caf::scoped_actor self{g.sys};
  constexpr int n = 12;  // three batches of 50 ms: most are still held when the batcher dies
  for (int i = 0; i < n; ++i) self->send(g.supervisor, infer_atom::value, g.job());
  g.crash_batcher();
  int ok = 0;
  for (int i = 0; i < n; ++i)
    self->receive([&](item_result& r) { ok += r.failure ? 0 : 1; },
                  caf::after(30s) >> [&] { BOOST_FAIL("a held job was never answered"); });
  BOOST_TEST(ok == n);
  BOOST_TEST(g.respawned.load() == 1);
}

BOOST_AUTO_TEST_CASE(past_its_restart_intensity_the_group_is_unhealthy_and_answers_unavailable) {
  group_fixture g(quick(1));
  caf::scoped_actor self{g.sys};
  auto ask = [&] {
    item_result out;
    self->request(g.supervisor, 30s, infer_atom::value, g.job())
        .receive([&](item_result& r) { out = std::move(r); }, [&](caf::error& e) { BOOST_FAIL(g.sys.render(e)); });
    return out;
  };
  BOOST_TEST(!ask().failure.has_value());
  g.crash_batcher();  // one restart is allowed...
  BOOST_TEST(!ask().failure.has_value(), "the replacement serves");
  g.crash_batcher();  // ...the second is one too many
  item_result refused;
  for (int i = 0; i < 100 && !refused.failure; ++i) refused = ask();  // (the death is noticed asynchronously)
  BOOST_REQUIRE(refused.failure.has_value());
  BOOST_TEST(static_cast<int>(refused.failure->code) == static_cast<int>(error_code::unavailable));
  BOOST_TEST(g.unhealthy_reports.load() == 1);
}

BOOST_AUTO_TEST_SUITE_END()
