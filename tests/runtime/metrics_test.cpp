// The node's Prometheus metrics (runtime/metrics.hpp): what each event adds, in the text format a scrape
// reads, with the names, labels and buckets the README documents.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "runtime/metrics.hpp"

using namespace infermesh;

namespace {

/// The value of the sample `series` (name and labels exactly as serialized) in `text`; -1 when absent.
double sample(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + series.size() + 2));
}

struct one_node {
  node_metrics metrics{{"classify", "process"}, {"synthetic"}, {"process"}};
};

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_FIXTURE_TEST_CASE(every_series_exists_at_zero_before_any_traffic, one_node) {
  const auto text = metrics.scrape({});
  BOOST_TEST(sample(text, R"(infermesh_requests_total{code="ok",op="classify"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_request_duration_seconds_count{op="process"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_queue_wait_seconds_count{model="synthetic"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_compute_seconds_count{model="synthetic"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_batch_size_count{model="synthetic"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_queue_depth{model="synthetic"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_in_flight_requests{model="synthetic"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_model_restarts_total{model="synthetic"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_model_loads_total{model="synthetic"})") == 0);
  BOOST_TEST(sample(text, "infermesh_nats_reconnects_total") == 0);
  BOOST_TEST(sample(text, R"(infermesh_jetstream_redeliveries_total{op="process"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_jetstream_ack_pending{op="process"})") == 0);
  BOOST_TEST(text.find("# TYPE infermesh_request_duration_seconds histogram") != std::string::npos);
  BOOST_TEST(text.find("# TYPE infermesh_requests_total counter") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(replies_are_counted_by_op_and_code_and_their_latency_lands_in_its_bucket, one_node) {
  metrics.on_reply("classify", "ok", 0.003);
  metrics.on_reply("classify", "ok", 0.004);
  metrics.on_reply("classify", "overloaded", 0.0001);
  const auto text = metrics.scrape({});
  BOOST_TEST(sample(text, R"(infermesh_requests_total{code="ok",op="classify"})") == 2);
  BOOST_TEST(sample(text, R"(infermesh_requests_total{code="overloaded",op="classify"})") == 1);
  BOOST_TEST(sample(text, R"(infermesh_request_duration_seconds_count{op="classify"})") == 3);
  BOOST_TEST(sample(text, R"(infermesh_request_duration_seconds_bucket{op="classify",le="0.0005"})") == 1);
  BOOST_TEST(sample(text, R"(infermesh_request_duration_seconds_bucket{op="classify",le="0.0025"})") == 1);
  BOOST_TEST(sample(text, R"(infermesh_request_duration_seconds_bucket{op="classify",le="0.005"})") == 3);
  BOOST_TEST(sample(text, R"(infermesh_request_duration_seconds_bucket{op="classify",le="+Inf"})") == 3);
  BOOST_TEST(sample(text, R"(infermesh_request_duration_seconds_sum{op="classify"})") == 0.0071, boost::test_tools::tolerance(1e-9));
}

BOOST_FIXTURE_TEST_CASE(a_batch_adds_its_size_its_compute_and_each_requests_queue_wait, one_node) {
  metrics.on_batch("synthetic", 3, {0.001, 0.002, 0.02}, 0.01);
  const auto text = metrics.scrape({});
  BOOST_TEST(sample(text, R"(infermesh_batch_size_count{model="synthetic"})") == 1);
  BOOST_TEST(sample(text, R"(infermesh_batch_size_bucket{model="synthetic",le="2"})") == 0);
  BOOST_TEST(sample(text, R"(infermesh_batch_size_bucket{model="synthetic",le="4"})") == 1);
  BOOST_TEST(sample(text, R"(infermesh_compute_seconds_count{model="synthetic"})") == 1);
  BOOST_TEST(sample(text, R"(infermesh_queue_wait_seconds_count{model="synthetic"})") == 3);
  BOOST_TEST(sample(text, R"(infermesh_queue_wait_seconds_bucket{model="synthetic",le="0.0025"})") == 2);
}

BOOST_FIXTURE_TEST_CASE(loads_restarts_and_redeliveries_are_counted_and_the_latest_load_time_kept, one_node) {
  metrics.on_model_load("synthetic", 2.5);
  metrics.on_model_load("synthetic", 0.5);
  metrics.on_model_restart("synthetic");
  metrics.on_redelivery("process");
  metrics.on_redelivery("process");
  const auto text = metrics.scrape({});
  BOOST_TEST(sample(text, R"(infermesh_model_loads_total{model="synthetic"})") == 2);
  BOOST_TEST(sample(text, R"(infermesh_model_load_seconds{model="synthetic"})") == 0.5);
  BOOST_TEST(sample(text, R"(infermesh_model_restarts_total{model="synthetic"})") == 1);
  BOOST_TEST(sample(text, R"(infermesh_jetstream_redeliveries_total{op="process"})") == 2);
}

BOOST_FIXTURE_TEST_CASE(gauges_take_the_scraped_figures_and_reconnects_only_grow, one_node) {
  scrape_figures f;
  f.models["synthetic"] = {5, 9};
  f.ack_pending["process"] = 3;
  f.nats_reconnects = 2;
  auto text = metrics.scrape(f);
  BOOST_TEST(sample(text, R"(infermesh_queue_depth{model="synthetic"})") == 5);
  BOOST_TEST(sample(text, R"(infermesh_in_flight_requests{model="synthetic"})") == 9);
  BOOST_TEST(sample(text, R"(infermesh_jetstream_ack_pending{op="process"})") == 3);
  BOOST_TEST(sample(text, "infermesh_nats_reconnects_total") == 2);
  text = metrics.scrape(f);  // the same figures again: the counter does not count them twice
  BOOST_TEST(sample(text, "infermesh_nats_reconnects_total") == 2);
  f.nats_reconnects = 3;
  text = metrics.scrape(f);
  BOOST_TEST(sample(text, "infermesh_nats_reconnects_total") == 3);
}

BOOST_AUTO_TEST_CASE(latency_buckets_run_from_half_a_millisecond_to_thirty_seconds) {
  BOOST_TEST(latency_buckets().front() == 0.0005);
  BOOST_TEST(latency_buckets().back() == 30);
  BOOST_TEST(std::is_sorted(latency_buckets().begin(), latency_buckets().end()));
  BOOST_TEST(batch_size_buckets() == (std::vector<double>{1, 2, 4, 8, 16, 32, 64, 128}));
}

BOOST_FIXTURE_TEST_CASE(ingress_refusals_count_by_op_and_reason_and_the_backlog_and_nats_drops_come_from_the_scrape, one_node) {
  const auto before = metrics.scrape({});
  BOOST_TEST(sample(before, R"(infermesh_ingress_refused_total{op="classify",reason="no_reply_subject"})") == 0);
  BOOST_TEST(sample(before, R"(infermesh_ingress_refused_total{op="process",reason="backlog_full"})") == 0);
  BOOST_TEST(sample(before, "infermesh_nats_slow_consumer_dropped_total") == 0);
  metrics.on_ingress_refused("classify", "no_reply_subject");
  metrics.on_ingress_refused("classify", "no_reply_subject");
  metrics.on_ingress_refused("process", "backlog_full");
  scrape_figures figures;
  figures.backlog_requests = 7;
  figures.backlog_bytes = 7000;
  figures.nats_dropped = 5;
  const auto text = metrics.scrape(figures);
  BOOST_TEST(sample(text, R"(infermesh_ingress_refused_total{op="classify",reason="no_reply_subject"})") == 2);
  BOOST_TEST(sample(text, R"(infermesh_ingress_refused_total{op="process",reason="backlog_full"})") == 1);
  BOOST_TEST(sample(text, "infermesh_ingress_backlog_requests") == 7);
  BOOST_TEST(sample(text, "infermesh_ingress_backlog_bytes") == 7000);
  BOOST_TEST(sample(text, "infermesh_nats_slow_consumer_dropped_total") == 5);
  figures.nats_dropped = 3;  // a drained subscription's drops are gone from the sum: the counter never goes back
  BOOST_TEST(sample(metrics.scrape(figures), "infermesh_nats_slow_consumer_dropped_total") == 5);
}

BOOST_AUTO_TEST_SUITE_END()
