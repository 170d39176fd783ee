#include "runtime/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>

namespace infermesh {

const std::vector<double>& latency_buckets() {
  static const std::vector<double> bounds{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                          0.25,   0.5,   1,      2.5,   5,    10,    30};
  return bounds;
}

const std::vector<double>& batch_size_buckets() {
  static const std::vector<double> bounds{1, 2, 4, 8, 16, 32, 64, 128};
  return bounds;
}

struct node_metrics::impl {
  prometheus::Registry registry;
  prometheus::Family<prometheus::Counter>& requests =
      prometheus::BuildCounter().Name("infermesh_requests_total").Help("Answers sent, by op and code (ok or the error code)").Register(registry);
  prometheus::Family<prometheus::Histogram>& duration =
      prometheus::BuildHistogram()
          .Name("infermesh_request_duration_seconds")
          .Help("End-to-end latency of a request on this node: taken off NATS to its answer published")
          .Register(registry);
  prometheus::Family<prometheus::Histogram>& queue_wait =
      prometheus::BuildHistogram()
          .Name("infermesh_queue_wait_seconds")
          .Help("Time a request waited in its model's batcher (preprocessing included) before its batch started")
          .Register(registry);
  prometheus::Family<prometheus::Histogram>& compute =
      prometheus::BuildHistogram().Name("infermesh_compute_seconds").Help("Forward pass of one batch").Register(registry);
  prometheus::Family<prometheus::Histogram>& batch_size =
      prometheus::BuildHistogram().Name("infermesh_batch_size").Help("Requests per batch").Register(registry);
  prometheus::Family<prometheus::Gauge>& queue_depth =
      prometheus::BuildGauge().Name("infermesh_queue_depth").Help("Requests waiting for a batch (queued or preprocessing)").Register(registry);
  prometheus::Family<prometheus::Gauge>& in_flight =
      prometheus::BuildGauge()
          .Name("infermesh_in_flight_requests")
          .Help("Requests a model's batcher admitted and has not answered yet (waiting or in the running batch)")
          .Register(registry);
  prometheus::Family<prometheus::Counter>& restarts =
      prometheus::BuildCounter().Name("infermesh_model_restarts_total").Help("Replacements of a model's actors that reached serving").Register(registry);
  prometheus::Family<prometheus::Counter>& loads =
      prometheus::BuildCounter().Name("infermesh_model_loads_total").Help("Loads of a model (start-up, reloads, on demand, and each crash's replacement)").Register(registry);
  prometheus::Family<prometheus::Gauge>& load_seconds =
      prometheus::BuildGauge().Name("infermesh_model_load_seconds").Help("How long the latest load of a model took, warm-up included").Register(registry);
  prometheus::Counter& reconnects = prometheus::BuildCounter()
                                        .Name("infermesh_nats_reconnects_total")
                                        .Help("Times the NATS connection was lost and re-established")
                                        .Register(registry)
                                        .Add({});
  prometheus::Family<prometheus::Counter>& redeliveries =
      prometheus::BuildCounter()
          .Name("infermesh_jetstream_redeliveries_total")
          .Help("Durable requests delivered to this node again (a delivery after the first)")
          .Register(registry);
  prometheus::Family<prometheus::Gauge>& ack_pending =
      prometheus::BuildGauge()
          .Name("infermesh_jetstream_ack_pending")
          .Help("Durable requests this node pulled and has not acknowledged (or handed back) yet")
          .Register(registry);

  prometheus::Family<prometheus::Counter>& ingress_refused =
      prometheus::BuildCounter()
          .Name("infermesh_ingress_refused_total")
          .Help("Core messages the NATS callback refused without decoding them: no reply subject (dropped) or the "
                "ingress backlog full (answered overloaded)")
          .Register(registry);
  prometheus::Gauge& backlog_requests = prometheus::BuildGauge()
                                            .Name("infermesh_ingress_backlog_requests")
                                            .Help("Requests taken off NATS and not decoded yet")
                                            .Register(registry)
                                            .Add({});
  prometheus::Gauge& backlog_bytes = prometheus::BuildGauge()
                                         .Name("infermesh_ingress_backlog_bytes")
                                         .Help("Payload bytes of the requests taken off NATS and not decoded yet")
                                         .Register(registry)
                                         .Add({});
  prometheus::Counter& nats_dropped = prometheus::BuildCounter()
                                          .Name("infermesh_nats_slow_consumer_dropped_total")
                                          .Help("Messages nats.c dropped past a subscription's pending limits (slow consumer)")
                                          .Register(registry)
                                          .Add({});

  std::mutex scrape_mutex;  // two scrapes at once set the reconnect and drop counters once
  std::uint64_t reconnects_seen = 0;
  std::uint64_t dropped_seen = 0;

  prometheus::Histogram& latency_of(prometheus::Family<prometheus::Histogram>& f, const std::string& label,
                                    const std::string& value) {
    return f.Add({{label, value}}, latency_buckets());
  }
};

node_metrics::node_metrics(const std::vector<std::string>& ops, const std::vector<std::string>& models,
                           const std::vector<std::string>& durable_ops)
    : impl_(std::make_unique<impl>()) {
  auto& p = *impl_;
  for (const auto& op : ops) {
    p.requests.Add({{"op", op}, {"code", "ok"}});
    for (const char* reason : {"no_reply_subject", "backlog_full"}) p.ingress_refused.Add({{"op", op}, {"reason", reason}});
    p.latency_of(p.duration, "op", op);
  }
  for (const auto& m : models) {
    p.latency_of(p.queue_wait, "model", m);
    p.latency_of(p.compute, "model", m);
    p.batch_size.Add({{"model", m}}, batch_size_buckets());
    p.queue_depth.Add({{"model", m}});
    p.in_flight.Add({{"model", m}});
    p.restarts.Add({{"model", m}});
    p.loads.Add({{"model", m}});
  }
  for (const auto& op : durable_ops) {
    p.redeliveries.Add({{"op", op}});
    p.ack_pending.Add({{"op", op}});
  }
}

node_metrics::~node_metrics() = default;

void node_metrics::on_reply(const std::string& op, const std::string& code, double seconds) {
  impl_->requests.Add({{"op", op}, {"code", code}}).Increment();
  impl_->latency_of(impl_->duration, "op", op).Observe(seconds);
}

void node_metrics::on_batch(const std::string& model, std::size_t size, const std::vector<double>& queue_waits_s,
                            double compute_s) {
  auto& p = *impl_;
  p.batch_size.Add({{"model", model}}, batch_size_buckets()).Observe(static_cast<double>(size));
  p.latency_of(p.compute, "model", model).Observe(compute_s);
  auto& wait = p.latency_of(p.queue_wait, "model", model);
  for (double w : queue_waits_s) wait.Observe(w);
}

void node_metrics::on_model_restart(const std::string& model) { impl_->restarts.Add({{"model", model}}).Increment(); }

void node_metrics::on_model_load(const std::string& model, double seconds) {
  impl_->loads.Add({{"model", model}}).Increment();
  impl_->load_seconds.Add({{"model", model}}).Set(seconds);
}

void node_metrics::on_redelivery(const std::string& op) { impl_->redeliveries.Add({{"op", op}}).Increment(); }

void node_metrics::on_ingress_refused(const std::string& op, const std::string& reason) {
  impl_->ingress_refused.Add({{"op", op}, {"reason", reason}}).Increment();
}

std::string node_metrics::scrape(const scrape_figures& figures) {
  auto& p = *impl_;
  {
    std::lock_guard<std::mutex> guard(p.scrape_mutex);
    if (figures.nats_reconnects > p.reconnects_seen) {
      p.reconnects.Increment(static_cast<double>(figures.nats_reconnects - p.reconnects_seen));
      p.reconnects_seen = figures.nats_reconnects;
    }
    if (figures.nats_dropped > p.dropped_seen) {
      p.nats_dropped.Increment(static_cast<double>(figures.nats_dropped - p.dropped_seen));
      p.dropped_seen = figures.nats_dropped;
    }
  }
  p.backlog_requests.Set(static_cast<double>(figures.backlog_requests));
  p.backlog_bytes.Set(static_cast<double>(figures.backlog_bytes));
  for (const auto& [model, load] : figures.models) {
    p.queue_depth.Add({{"model", model}}).Set(static_cast<double>(load.queue_depth));
    p.in_flight.Add({{"model", model}}).Set(static_cast<double>(load.in_flight));
  }
  for (const auto& [op, pending] : figures.ack_pending) p.ack_pending.Add({{"op", op}}).Set(static_cast<double>(pending));
  return prometheus::TextSerializer().Serialize(p.registry.Collect());
}

}  // namespace infermesh
