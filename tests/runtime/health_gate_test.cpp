// The health gate (runtime/health_gate.hpp) against a real nats-server: reports change what the node takes,
// applied on the gate's own thread, so a report never waits for NATS — not even while a subscribe is stuck.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>

#include "messages/subjects.hpp"
#include "runtime/health_gate.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// How long `report` may take: it only queues, so microseconds; 1 s leaves room for a loaded machine while a
/// report that waited for the stuck subscribe (forever, until the test releases it) still fails.
constexpr auto report_bound = 1s;
/// How long the gate thread may take to apply a change on an idle loopback server.
constexpr auto apply_bound = 10s;

/// A gate thread's subscribe that the test holds back: `hold()` makes later calls wait until `release()`.
struct valve {
  std::mutex mutex;
  std::condition_variable changed;
  bool held = false;
  int waiting = 0;

  void hold() {
    std::lock_guard<std::mutex> guard(mutex);
    held = true;
  }
  void release() {
    std::lock_guard<std::mutex> guard(mutex);
    held = false;
    changed.notify_all();
  }
  void pass() {
    std::unique_lock<std::mutex> lock(mutex);
    ++waiting;
    changed.notify_all();
    changed.wait(lock, [&] { return !held; });
    --waiting;
  }
  bool wait_until_someone_waits(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex);
    return changed.wait_for(lock, timeout, [&] { return waiting > 0; });
  }
};

/// Whether someone answers `op`'s subject now (a request: its reply, or no responders).
bool answered(nats_transport& client, const std::string& op) {
  return static_cast<bool>(client.request(wire::op_subject(op), "ping", 2s));
}

/// Waits until `condition()` holds; false after `apply_bound`.
template <class F>
bool eventually(F condition) {
  const auto until = std::chrono::steady_clock::now() + apply_bound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

/// Waits until `op` is (`expected`) or is not answered, and the gate's subscriptions agree; false after
/// `apply_bound`.
bool wait_taken(health_gate& gate, nats_transport& client, const std::string& op, bool expected) {
  return eventually([&] { return answered(client, op) == expected && gate.subscriptions().size() == (expected ? 1u : 0u); });
}

struct gate_fixture {
  test::nats_server server;
  std::unique_ptr<nats_transport> node_side = test::connect_client({server.url()});
  std::unique_ptr<nats_transport> client = test::connect_client({server.url()});
  valve subscribe_valve;
  nats_transport* t = node_side.get();
  // The op's responder answers "pong": `answered` sees whether the gate has it subscribed.
  health_gate gate{*node_side, {{"classify", {"model-a", "router"}}}, [this](const std::string& op) {
                     subscribe_valve.pass();
                     return t->subscribe(wire::op_subject(op), std::string(wire::queue_group),
                                         [t = t](incoming_message&& in) { t->publish(in.reply, "pong"); });
                   }};

  /// Opens the gate and makes sure the server has its subscriptions (as node::start flushes after it).
  void open_gate() {
    BOOST_REQUIRE(!gate.open());
    BOOST_REQUIRE(!node_side->flush(5s));
  }
};

/// `gate.report(model, healthy)` on another thread; true when it returned within `report_bound`. When it did
/// not (a report that waits for the stuck subscribe), the valve opens so the test fails instead of hanging.
bool report_returns_at_once(health_gate& gate, valve& v, const std::string& model, bool healthy) {
  auto done = std::async(std::launch::async, [&gate, model, healthy] { gate.report(model, healthy); });
  if (done.wait_for(report_bound) == std::future_status::ready) return true;
  v.release();
  return false;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(health_gate_thread, gate_fixture)

BOOST_AUTO_TEST_CASE(an_unhealthy_model_stops_its_ops_and_a_healthy_one_takes_them_again) {
  open_gate();
  BOOST_TEST(gate.subscriptions().size() == 1u);
  BOOST_TEST(answered(*client, "classify"));
  gate.report("model-a", false);
  BOOST_TEST(wait_taken(gate, *client, "classify", false));
  gate.report("model-a", true);
  BOOST_TEST(wait_taken(gate, *client, "classify", true));
}

BOOST_AUTO_TEST_CASE(report_returns_at_once_while_a_subscribe_blocks_and_the_change_lands_once_it_unblocks) {
  open_gate();
  gate.report("model-a", false);
  BOOST_REQUIRE(wait_taken(gate, *client, "classify", false));
  subscribe_valve.hold();
  BOOST_REQUIRE(report_returns_at_once(gate, subscribe_valve, "model-a", true));
  BOOST_REQUIRE(subscribe_valve.wait_until_someone_waits(apply_bound));  // the gate thread is stuck in subscribe
  // More reports while it is stuck (as supervisors on CAF threads send them) still return at once; model-b is
  // needed by no op, so they change nothing once applied.
  BOOST_TEST(report_returns_at_once(gate, subscribe_valve, "model-b", false));
  BOOST_TEST(report_returns_at_once(gate, subscribe_valve, "model-b", true));
  BOOST_TEST(!answered(*client, "classify"));
  subscribe_valve.release();
  BOOST_TEST(wait_taken(gate, *client, "classify", true));
}

BOOST_AUTO_TEST_CASE(close_returns_the_active_subscriptions_and_later_reports_change_nothing) {
  open_gate();
  const auto open = gate.subscriptions();
  const auto closed = gate.close();
  BOOST_TEST(closed == open, "drain sees the subscriptions active when the gate closed");
  gate.report("model-a", false);
  std::this_thread::sleep_for(200ms);  // nothing to wait for: a closed gate has no thread that could act
  BOOST_TEST(answered(*client, "classify"));
  BOOST_TEST(gate.close() == open);
}

BOOST_AUTO_TEST_SUITE_END()
