#pragma once
/// A node's configuration (cluster-config/*.yaml): parsed and validated once, at start-up. Every error names
/// the file and the key (`models[0].batching.max_batch_size: must be an integer between 1 and 4096`), and
/// unknown keys are errors, so a typo never silently falls back to a default.

#include <chrono>
#include <string>
#include <vector>

#include "actors/batching_policy.hpp"
#include "messages/outcome.hpp"
#include "models/model_config.hpp"
#include "runtime/nats_transport.hpp"

namespace infermesh {

/// One model a node hosts, with its batcher's settings.
struct hosted_model {
  model_config model;
  batching_config batching;
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
  std::chrono::milliseconds stats_interval{10000};  ///< 0: log stats only at shutdown
  std::vector<hosted_model> models;
};

/// Parses YAML `text`; relative model and label paths resolve against `base_dir`.
outcome<node_config> parse_config(const std::string& text, const std::string& base_dir, const std::string& source);

/// Reads and parses a config file.
outcome<node_config> load_config_file(const std::string& path);

/// cluster-config/single-node.yaml as compiled into the binary; its paths resolve against the source tree.
outcome<node_config> load_embedded_default_config();

}  // namespace infermesh
