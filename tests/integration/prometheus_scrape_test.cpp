// Metrics through a real Prometheus (Debian prometheus 2.42): it scrapes a node's /metrics every second; the
// test sends a known number of requests and reads back, through Prometheus's query API, exactly that count and
// a latency quantile computed from the histogram's buckets.
#include <boost/test/unit_test.hpp>

#include <cmath>

#include "support/client.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"
#include "support/prometheus_server.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// Requests the test sends, each answered before the next (an exact count to read back).
constexpr int requests_sent = 25;
/// The synthetic model's latency per batch: every request's end-to-end latency is at least this.
constexpr int model_latency_us = 2000;
/// The latency bucket bound below `model_latency_us` (buckets: 0.5 ms, 1 ms, 2.5 ms, ...): a quantile
/// interpolated within the buckets cannot fall under it.
constexpr double bucket_below_model_latency = 0.001;
/// How long Prometheus may take to show a sample: it scrapes every second; the first sample took 5-8 s.
constexpr auto scrape_wait = 60s;

}  // namespace

BOOST_AUTO_TEST_SUITE(prometheus_scrape)

BOOST_AUTO_TEST_CASE(prometheus_reads_back_exactly_the_requests_sent_and_a_latency_quantile_from_the_buckets) {
  test::nats_server nats;
  const int http_port = test::free_loopback_port();
  test::node_process node(test::synthetic_config(model_latency_us, "max_batch_size: 4", "",
                                                 {"", "", "http: {listen: \"127.0.0.1:" + std::to_string(http_port) + "\"}\n"}),
                          nats.url(), "prom-a");
  test::prometheus_server prometheus({"127.0.0.1:" + std::to_string(http_port)});
  // Scraped once before any traffic: the series exist at 0 (so the count read later is all of this test's).
  const auto before = prometheus.wait_for_value(R"(infermesh_requests_total{job="infermesh",op="classify",code="ok"})",
                                                [](double) { return true; }, scrape_wait);
  BOOST_REQUIRE_MESSAGE(before, "Prometheus never scraped the node:\n" << prometheus.process().output());
  BOOST_TEST(*before == 0);

  test::client client(nats.url());
  for (int i = 0; i < requests_sent; ++i) {
    auto rep = client.send("classify", test::grey_request(128, "prom-" + std::to_string(i)));
    BOOST_REQUIRE_MESSAGE(rep.ok, test::message_of(rep));
  }
  const auto counted = prometheus.wait_for_value(R"(infermesh_requests_total{job="infermesh",op="classify",code="ok"})",
                                                 [](double v) { return v >= requests_sent; }, scrape_wait);
  BOOST_REQUIRE(counted);
  BOOST_TEST(*counted == requests_sent);
  const auto observed = prometheus.wait_for_value(R"(infermesh_request_duration_seconds_count{op="classify"})",
                                                  [](double v) { return v >= requests_sent; }, scrape_wait);
  BOOST_REQUIRE(observed);
  BOOST_TEST(*observed == requests_sent);
  const auto batched = prometheus.query_value(R"(sum(infermesh_batch_size_count{model="synthetic"}))");
  BOOST_REQUIRE(batched);
  BOOST_TEST(*batched >= 1);
  BOOST_TEST(*batched <= requests_sent);
  const auto p90 = prometheus.query_value(
      R"(histogram_quantile(0.9, sum by (le) (infermesh_request_duration_seconds_bucket{op="classify"})))");
  BOOST_REQUIRE(p90);
  BOOST_TEST(std::isfinite(*p90), "p90 " << *p90);
  BOOST_TEST(*p90 >= bucket_below_model_latency, "p90 " << *p90 << " s");
  BOOST_TEST(*p90 <= 30.0, "p90 " << *p90 << " s: within the largest finite bucket");
  BOOST_TEST_MESSAGE("Prometheus: " << *counted << " requests, p90 " << *p90 * 1000 << " ms");
  BOOST_TEST(node.stop_problem(30s) == "");
}

BOOST_AUTO_TEST_SUITE_END()
