// The step and router supervisors on CAF's virtual time: what a dead child held is answered by its
// replacement once the back-off has passed, and messages that arrive meanwhile wait for it.

#include <boost/test/unit_test.hpp>

#include "actors/router_supervisor.hpp"
#include "actors/step_supervisor.hpp"
#include "messages/codec.hpp"
#include "support/virtual_time.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// A step server that answers each step after `delay` of virtual time (0: never), naming its incarnation.
using test_step_impl = step_actor::extend<caf::reacts_to<wake_atom, std::uint64_t>>;
struct test_step_state {
  test::deferred_answers<step_reply> answers;
  static inline const char* name = "test-step";
};
test_step_impl::behavior_type test_step(test_step_impl::stateful_pointer<test_step_state> self, caf::timespan delay,
                                        int incarnation) {
  return {
      [=](step_atom, const step_request&) -> caf::result<step_reply> {
        auto p = self->make_response_promise<step_reply>();
        const auto ticket = self->state.answers.keep(p);
        if (delay.count() > 0) self->delayed_send(self, delay, wake_atom::value, ticket);
        return p;
      },
      [](ping_atom) { return true; },
      [=](wake_atom, std::uint64_t ticket) {
        step_reply r;
        r.total_pages = incarnation;
        self->state.answers.deliver(ticket, std::move(r));
      },
  };
}

/// Back-off 100 ms; 5 restarts per 10 s.
supervision_config quick() { return {5, 10000ms, 100ms, 100ms, 3, 1000ms}; }

}  // namespace

BOOST_AUTO_TEST_SUITE(step_supervisor)

BOOST_FIXTURE_TEST_CASE(the_steps_a_dead_server_held_are_answered_by_its_replacement_after_the_back_off,
                        test::virtual_time) {
  caf::actor current;
  int incarnations = 1;
  step_supervisor_setup s;
  s.what = "the test step";
  s.supervision = quick();
  s.first = sys.spawn(test_step, caf::timespan{0}, 1);  // never answers: what it holds must survive it
  s.respawn = [&] { return step_actor{sys.spawn(test_step, caf::timespan{std::chrono::milliseconds(5)}, ++incarnations)}; };
  s.on_spawned = [&](const caf::actor& a) { current = a; };
  auto sup = keep(spawn_step_supervisor(sys, std::move(s)));
  run();
  for (int i = 0; i < 3; ++i) self->send(sup, step_atom::value, step_request{});
  run();
  caf::anon_send_exit(current, caf::exit_reason::kill);
  run();
  advance(99ms);
  BOOST_TEST(incarnations == 1, "not before the back-off");
  advance(1ms);
  BOOST_TEST(incarnations == 2);
  advance(5ms);
  for (int i = 0; i < 3; ++i)
    self->receive([](step_reply& r) { BOOST_TEST(r.total_pages == 2, "answered by the replacement"); },
                  caf::after(0s) >> [] { BOOST_FAIL("a held step was not answered"); });
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(router_supervisor)

BOOST_FIXTURE_TEST_CASE(a_request_arriving_while_the_router_restarts_is_answered_by_the_replacement,
                        test::virtual_time) {
  std::vector<std::string> published;  // reply subjects
  caf::actor current;
  router_supervisor_setup s;
  s.router.node_name = "n1";
  s.router.pipelines = {{"classify", default_pipelines().at("classify")}};  // no model here: answered unavailable
  s.router.publish = [&](const std::string& subject, std::string_view) { published.push_back(subject); };
  s.supervision = quick();
  s.on_spawned = [&](const caf::actor& a) { current = a; };
  auto sup = keep(spawn_router_supervisor(sys, std::move(s)));
  run();
  caf::anon_send_exit(current, caf::exit_reason::kill);
  run();
  const std::string payload = R"({"id": "while-restarting", "image": "aGVsbG8="})";
  self->send(sup, incoming_atom::value, std::string("classify"), shared_bytes::copy_of(payload),
             std::string("inbox.1"), std::chrono::steady_clock::now(), backlog_ticket{});
  run();
  BOOST_TEST(published.empty(), "no router runs during the back-off");
  advance(100ms);
  BOOST_TEST(published == std::vector<std::string>{"inbox.1"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()
