// The core subscriptions of the NATS seam (runtime/nats_transport.cpp) against a real nats-server: each holds
// at most its pending limits for a handler that falls behind, and what it drops past them is counted.
#include <boost/test/unit_test.hpp>

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "runtime/nats_transport.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(nats_transport_limits)

BOOST_AUTO_TEST_CASE(a_subscription_whose_handler_is_stuck_holds_its_pending_limit_and_counts_what_it_drops) {
  constexpr int pending_limit = 10;  // messages nats.c may hold for the stuck handler
  constexpr int published = 100;
  test::nats_server server;
  nats_options o;
  o.servers = {server.url()};
  o.log_events = false;
  o.max_pending_messages = pending_limit;
  auto receiver = nats_transport::connect(o);
  BOOST_REQUIRE(receiver);
  std::mutex mutex;
  std::condition_variable changed;
  bool released = false;
  int handled = 0;
  auto sub = (*receiver)->subscribe("limits.test", "", [&](incoming_message&&) {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return released; });  // stuck until the test lets it go
    ++handled;
    changed.notify_all();
  });
  BOOST_REQUIRE(sub);
  BOOST_REQUIRE(!(*receiver)->flush(5s));
  auto sender = test::connect_client({server.url()});
  for (int i = 0; i < published; ++i) BOOST_REQUIRE(!sender->publish("limits.test", "x"));
  BOOST_REQUIRE(!sender->flush(5s));
  // The server sends a connection its messages before the answer to its ping: once the receiver's flush
  // returns, nats.c has taken in (queued or dropped) all of them.
  BOOST_REQUIRE(!(*receiver)->flush(5s));
  const auto dropped = (*receiver)->dropped();
  BOOST_TEST(dropped >= static_cast<std::uint64_t>(published - pending_limit - 2),
             dropped << " dropped: at most the limit and the one in the handler are held");
  {
    std::unique_lock<std::mutex> lock(mutex);
    released = true;
    changed.notify_all();
    BOOST_TEST(changed.wait_for(lock, 10s, [&] { return handled + static_cast<int>(dropped) == published; }),
               handled << " handled + " << dropped << " dropped = every message published");
  }
}

BOOST_AUTO_TEST_SUITE_END()
