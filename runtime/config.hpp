#pragma once
/// A node's configuration (cluster-config/*.yaml): parsed and validated once, at start-up. Every error names
/// the file and the key (`models[0].batching.max_batch_size: must be an integer between 1 and 4096`), and
/// unknown keys are errors, so a typo never silently falls back to a default.

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "actors/batching_policy.hpp"     // batching_config
#include "actors/pipeline.hpp"            // pipeline, default_pipelines
#include "actors/restart_intensity.hpp"   // supervision_config
#include "messages/outcome.hpp"
#include "models/document_pages.hpp"      // document_limits
#include "models/model_config.hpp"
#include "runtime/http_server.hpp"       // http_options
#include "runtime/ingress_backlog.hpp"    // backlog_limits
#include "runtime/nats_transport.hpp"     // nats_options, work_queue_options

namespace infermesh {

/// One model a node hosts, with its batcher's settings.
struct hosted_model {
  model_config model;
  batching_config batching;
  supervision_config supervision;  ///< batched models: restart intensity and back-off of the model actor
};

struct node_config {
  std::string source;                           ///< file path, or "<embedded single-node.yaml>"
  std::string node_name;
  nats_options nats;
  std::size_t max_payload_bytes = 8u << 20;     ///< requests larger than this are refused `too_large`
  std::size_t max_image_bytes = 8u << 20;
  std::chrono::milliseconds default_deadline{10000};
  std::chrono::milliseconds drain_timeout{15000};  ///< SIGTERM: longest wait for in-flight requests
  std::size_t preprocess_workers = 2;
  std::size_t reply_cache_entries = 10000;       ///< answers remembered by id (client retries)
  std::chrono::milliseconds reply_cache_ttl{60000};
  std::size_t max_waiters_per_id = 32;           ///< repeats of one request in flight held for its answer; more: overloaded
  backlog_limits backlog;                        ///< requests received and not decoded yet; more: overloaded at the door
  bool faults = false;
  bool control = false;                         ///< model commands on the control subject (list, reload, unload, load)
  std::size_t max_loaded_models = 0;            ///< batched models kept loaded at once, least recently used released; 0: all
  std::string selected_node;                    ///< the node picked from a cluster file ("" otherwise): a reload reads it again
  std::set<std::string> durable_ops;            ///< ops also taken from the JetStream work queue (`delivery:`)
  work_queue_options work_queue;                ///< `jetstream:` stream, replicas, ack wait
  std::uint64_t max_deliver = 5;                ///< deliveries of a durable request before it is answered internal
  supervision_config router_supervision;        ///< `node.supervision`: restart intensity of the router
  std::chrono::milliseconds stats_interval{10000};  ///< 0: log stats only at shutdown
  std::vector<hosted_model> models;
  std::map<std::string, pipeline> pipelines = default_pipelines();  ///< op -> steps (config `pipelines:`)
  int max_pages = 100;                          ///< the largest `max_pages` a request may ask for
  document_limits documents;                    ///< PDF/TIFF: page count, render dpi, pixels per page and per request
  /// Pixels of split pages held by all of the node's requests at once; a document that would pass it is
  /// answered `overloaded` before it is split (4 requests at the per-request default: 400 MB).
  std::uint64_t max_inflight_document_pixels = 400'000'000;
  http_options http;                            ///< `http:` health and metrics; off while `listen` is empty
};

/// Parses YAML `text`; relative model and label paths resolve against `base_dir`. A cluster file (a `nodes:`
/// list sharing `nats` and `pipelines`) needs `node_name`, the node to run.
outcome<node_config> parse_config(const std::string& text, const std::string& base_dir, const std::string& source,
                                  const std::string& node_name = "");

/// Reads and parses a config file (see parse_config for `node_name`).
outcome<node_config> load_config_file(const std::string& path, const std::string& node_name = "");

/// A machine of a deployment (`hosts:` of a cluster file): where its NATS servers and nodes run.
struct cluster_host {
  std::string name;
  std::string address;  ///< the address its servers listen on and peers reach it at (IPv4 or a host name)
};

/// A NATS server the cluster file launches (`nats.cluster.servers`), from which the launcher derives its
/// nats-server configuration (nats_server_config.hpp).
struct nats_server_plan {
  std::string name;       ///< its `server_name`
  std::string host;       ///< a `hosts:` name
  std::string address;    ///< the host's address
  int client_port = 4222;
  int cluster_port = 6222;   ///< routes between the servers of the cluster
  int monitor_port = 8222;   ///< HTTP monitoring: /healthz (readiness), /varz, /routez, /jsz
  std::string store_dir;     ///< JetStream's; relative paths resolve against the launcher's run directory
  std::string client_url() const { return "nats://" + address + ":" + std::to_string(client_port); }
};

/// What `infermesh cluster` reads of a cluster file itself (each node's config is parse_config's).
struct cluster_plan {
  /// `hosts:`; absent, one host named `local` at 127.0.0.1.
  std::vector<cluster_host> hosts{{"local", "127.0.0.1"}};
  std::vector<std::string> nodes;  ///< node names, in file order
  std::map<std::string, std::string> node_host;  ///< node -> its host (`nodes[i].host`)
  /// `nats.cluster`: the NATS servers to launch, with JetStream, as one cluster `nats_cluster_name`; empty:
  /// NATS runs elsewhere and the nodes' `nats.servers` (or --nats) say where.
  std::vector<nats_server_plan> nats_servers;
  std::string nats_cluster_name = "infermesh";
  /// `nats.cluster.authorization`: a file of nats-server configuration (`accounts { ... }` or
  /// `authorization { ... }`, with users and permissions) put into every launched server's configuration;
  /// `$NAME` in it is the server's environment variable NAME (so passwords stay out of the file). Empty: open.
  std::string nats_authorization_file;
  std::string nats_authorization;  ///< its text
  /// A stopping server's lame-duck period: clients are moved off over this time (nats-server's minimum: 30 s;
  /// the launcher drains the nodes first, so a server with no clients left exits at once).
  std::chrono::milliseconds lame_duck{30000};
  /// `supervision:` at the top: how the launcher restarts a node process that crashed or exited non-zero
  /// (keys max_restarts, period_ms, backoff_ms, max_backoff_ms). Starting a node loads its models, so the
  /// defaults are slower than an actor's: 1 s doubling to 30 s; past 5 crashes in 5 minutes, once per period.
  /// The launched NATS servers restart the same way.
  supervision_config node_restarts{5, std::chrono::minutes(5), std::chrono::seconds(1), std::chrono::seconds(30)};

  const cluster_host* host(const std::string& name) const;
  /// Every launched server's client URL, in file order (what each node is given).
  std::vector<std::string> nats_urls() const;
};

outcome<cluster_plan> parse_cluster_plan(const std::string& text, const std::string& source);

/// cluster-config/single-node.yaml as compiled into the binary; its paths resolve against the source tree.
outcome<node_config> load_embedded_default_config();

}  // namespace infermesh
