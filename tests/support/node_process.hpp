#pragma once
/// An `infermesh node` process for integration tests: the real binary, a YAML config written to a temp folder,
/// connected to a test nats_server. Started, waited for ("ready"), stopped by PID.

#include <memory>
#include <string>
#include <vector>

#include "runtime/nats_transport.hpp"
#include "support/child_process.hpp"

namespace infermesh::test {

/// A classifier-only node's pipelines: no orientation step (it has no orientation model).
inline const std::string classify_only = "pipelines: {classify: [classify]}\n";

/// The sample classifier as cluster-config/single-node.yaml serves it (absolute paths), with extra keys for
/// its `batching` and `input` maps (flow style, e.g. "max_batch_size: 4"), lines for `node`, and `pipelines`.
std::string sample_classifier_config(const std::string& batching_yaml = "", const std::string& node_yaml = "",
                                     const std::string& input_yaml = "",
                                     const std::string& pipelines_yaml = classify_only);

/// A models-list entry (to append to a config) serving `ocr` and `orient` (OSD) with Tesseract: name
/// "tesseract-eng", 2 workers.
std::string ocr_model_yaml();

/// Extra YAML for synthetic_config: inside `synthetic:` (", poison_mean_above: 2"), lines of the model entry
/// ("    supervision: {...}\n"), and top-level sections ("delivery: {...}\n").
struct synthetic_extras {
  std::string synthetic = "";
  std::string model = "";
  std::string top = "";
};

/// A config serving classify (no orientation step) with a synthetic model of `latency_us` per batch.
std::string synthetic_config(int latency_us, const std::string& batching_yaml, const std::string& node_yaml = "",
                             const synthetic_extras& extras = {});

/// A NATS connection for a test's client side (several servers: tried in order, with reconnects).
std::unique_ptr<nats_transport> connect_client(const std::vector<std::string>& servers);

/// A config file that already exists (a shipped one, e.g. cluster-config/single-node.yaml).
struct config_file {
  std::string path;
  std::string node = "";  ///< the node to run, for a cluster file (a `nodes:` list)
};

/// Tag: start a node without waiting until it is ready (a test that watches its start-up).
struct while_starting_t {};
inline constexpr while_starting_t while_starting{};

class node_process {
 public:
  /// Writes `config_yaml`, starts the node against `nats_url` (or several, comma-separated), and waits until it
  /// logs "ready". `extra_args` go on its command line (`--log-format json`).
  node_process(const std::string& config_yaml, const std::string& nats_url, const std::string& name = "node-t",
               const std::vector<std::string>& extra_args = {});
  /// Writes `config_yaml` and starts the node against `nats_url`, returning at once (`wait_ready` waits).
  node_process(while_starting_t, const std::string& config_yaml, const std::string& nats_url,
               const std::string& name = "node-t");
  /// Waits until the node logs "ready"; false after `timeout` or when it exited first.
  bool wait_ready(std::chrono::milliseconds timeout);
  /// Starts the node with an existing config file (its server list replaced by `nats_url`).
  node_process(const config_file& file, const std::string& nats_url, const std::string& name = "node-t");
  ~node_process();

  child_process& process() { return *process_; }
  const std::string& config_path() const { return config_; }
  /// SIGTERM, then the exit status (nullopt if it did not exit within `timeout`).
  std::optional<int> terminate(std::chrono::milliseconds timeout);
  /// SIGTERM, then "" if the node exited 0 within `timeout`; else what happened and the end of its output (a
  /// sanitizer's report, a last error), for a test's failure message.
  std::string stop_problem(std::chrono::milliseconds timeout);

 private:
  void start(const std::string& config, const std::string& nats_url, const std::string& name,
             const std::string& cluster_node = "", const std::vector<std::string>& extra_args = {},
             bool wait = true);

  std::string dir_;
  std::string config_;
  std::unique_ptr<child_process> process_;
};

/// The path of a bundled sample image: samples/layouts/<file>.
std::string sample_image(const std::string& file);
/// The bytes of a file.
std::string read_file(const std::string& path);

}  // namespace infermesh::test
