#pragma once
/// The node's Prometheus metrics (`GET /metrics`, text format 0.0.4): the only part of infermesh that includes
/// prometheus-cpp (pimpl). Events are recorded as they happen through plain methods; gauges (and the NATS
/// reconnect count) are set from `scrape_figures` the node gathers at each scrape. Names and labels:
///
///   infermesh_requests_total{op,code}              counter    answers sent (code "ok" or the error code)
///   infermesh_request_duration_seconds{op}         histogram  taken off NATS -> answer published
///   infermesh_queue_wait_seconds{model}            histogram  reached the batcher -> its batch started
///   infermesh_compute_seconds{model}               histogram  one batch's forward pass
///   infermesh_batch_size{model}                    histogram  requests per batch
///   infermesh_queue_depth{model}                   gauge      requests waiting (queued or preprocessing)
///   infermesh_in_flight_requests{model}            gauge      admitted by the batcher, not answered yet
///   infermesh_model_restarts_total{model}          counter    replacements of a model's actors that served
///   infermesh_model_loads_total{model}             counter    loads of a model (start-up, reloads, on demand, and each crash's replacement)
///   infermesh_model_load_seconds{model}            gauge      how long the latest load took
///   infermesh_nats_reconnects_total                counter    NATS connection re-established
///   infermesh_jetstream_redeliveries_total{op}     counter    durable requests delivered again (delivered > 1)
///   infermesh_jetstream_ack_pending{op}            gauge      durable requests this node holds unacknowledged
///   infermesh_ingress_refused_total{op,reason}     counter    core messages refused by the NATS callback, undecoded:
///                                                             reason no_reply_subject (dropped) or backlog_full
///                                                             (answered overloaded)
///   infermesh_ingress_backlog_requests             gauge      requests received and not decoded yet
///   infermesh_ingress_backlog_bytes                gauge      their payloads' bytes
///   infermesh_nats_slow_consumer_dropped_total     counter    messages nats.c dropped past a subscription's pending limits
///
/// Threads: every method may be called from any thread, concurrently (prometheus-cpp's metrics are
/// thread-safe); the `on_*` methods never block for long (a label lookup under prometheus-cpp's own lock):
/// actors' hooks call them on CAF threads.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace infermesh {

/// The gauges' values now (the node asks its actors at each scrape).
struct scrape_figures {
  struct model_load {
    std::uint64_t queue_depth = 0;
    std::uint64_t in_flight = 0;
  };
  std::map<std::string, model_load> models;          ///< by model; a model missing keeps its last values
  std::map<std::string, std::uint64_t> ack_pending;  ///< by durable op
  std::uint64_t nats_reconnects = 0;                 ///< since the connection was made (monotonic)
  std::uint64_t nats_dropped = 0;                    ///< slow-consumer drops so far (a drained subscription's are lost)
  std::uint64_t backlog_requests = 0;                ///< the ingress backlog now
  std::uint64_t backlog_bytes = 0;
};

/// Bucket bounds, in seconds, of the latency histograms: 0.5 ms to 30 s.
const std::vector<double>& latency_buckets();
/// Bucket bounds of the batch-size histogram: 1, 2, 4, ... 128.
const std::vector<double>& batch_size_buckets();

class node_metrics {
 public:
  /// `ops`: the ops this node serves; `models`: the models it hosts; `durable_ops`: ops it pulls from the
  /// work queue. Their series exist from the start (at 0), so a rate over them is defined before traffic.
  node_metrics(const std::vector<std::string>& ops, const std::vector<std::string>& models,
               const std::vector<std::string>& durable_ops);
  ~node_metrics();
  node_metrics(const node_metrics&) = delete;
  node_metrics& operator=(const node_metrics&) = delete;

  /// An answer to an `op` request was published, with `code` ("ok" or the error code), `seconds` after the
  /// node took the request off NATS.
  void on_reply(const std::string& op, const std::string& code, double seconds);
  /// A batch of `size` ran on `model`: its forward pass took `compute_s`; `queue_waits_s` holds each of its
  /// requests' waits from reaching the batcher to the batch's start.
  void on_batch(const std::string& model, std::size_t size, const std::vector<double>& queue_waits_s, double compute_s);
  /// A replacement of one of `model`'s actors serves (the model, its batcher, step actor, engine or pool).
  void on_model_restart(const std::string& model);
  /// `model` was loaded (and warmed up) in `seconds`: counts a load and sets its latest load time.
  void on_model_load(const std::string& model, double seconds);
  /// A durable `op` request arrived again (a delivery after the first).
  void on_redelivery(const std::string& op);
  /// The NATS callback refused an `op` message without decoding it: `reason` is "no_reply_subject" (dropped)
  /// or "backlog_full" (answered `overloaded`; that answer is also counted by `on_reply`).
  void on_ingress_refused(const std::string& op, const std::string& reason);

  /// Sets the gauges from `figures` and returns every metric in Prometheus text format.
  std::string scrape(const scrape_figures& figures);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

}  // namespace infermesh
