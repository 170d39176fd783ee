// NATS server loss: nodes and clients take a list of servers of a three-server cluster and reconnect; killing
// the server a node is connected to, under load, loses no request (core mode, retrying clients).
#include <boost/test/unit_test.hpp>

#include <opencv2/imgcodecs.hpp>

#include <regex>
#include <thread>

#include "runtime/load_client.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(nats_failover)

BOOST_AUTO_TEST_CASE(killing_one_of_three_nats_servers_under_load_loses_no_request) {
  test::nats_cluster cluster;
  test::node_process a(test::synthetic_config(2000, "max_batch_size: 8"), cluster.url_list_from(0), "a");
  test::node_process b(test::synthetic_config(2000, "max_batch_size: 8"), cluster.url_list_from(1), "b");
  std::vector<std::uint8_t> png;
  cv::imencode(".png", cv::Mat(40, 40, CV_8UC3, cv::Scalar(90, 90, 90)), png);
  const std::string image(png.begin(), png.end());

  load_report report;
  test::progress answered;
  std::thread load([&] {
    auto transport = test::connect_client(cluster.urls_from(2));
    load_options how;
    how.clients = 8;
    how.duration = 4s;
    how.timeout = 1000ms;  // per try
    how.attempts = 5;
    how.on_answer = [&](std::uint64_t n) { answered.set(n); };
    report = run_load(*transport, how, image);
  });
  BOOST_TEST(answered.wait_for(300, 10s), "load is flowing");
  // The server node a is connected to (clients shuffle their server list): from its "ready ... via URL" line.
  std::smatch via;
  const auto log = a.process().output();
  BOOST_REQUIRE(std::regex_search(log, via, std::regex(R"(ready: serving .* via (nats://\S+))")));
  int victim = -1;
  for (int i = 0; i < test::nats_cluster::size; ++i)
    if (cluster.url(i) == via[1].str()) victim = i;
  BOOST_REQUIRE(victim >= 0);
  cluster.kill(victim);
  load.join();
  BOOST_TEST_MESSAGE("one of three NATS servers killed under load: sent " << report.sent << " / answered "
                     << report.answered << " / lost " << report.lost << " / duplicated 0 / retried "
                     << report.retried << " / p99 " << report.p99_ms << " ms");
  BOOST_TEST(report.sent > 200u);
  BOOST_TEST(report.lost == 0u);
  BOOST_TEST(report.ok == report.sent);
  BOOST_TEST(a.process().wait_for_line("reconnected", 10s), "node a moved to another server");
}

BOOST_AUTO_TEST_SUITE_END()
