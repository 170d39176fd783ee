#include "support/node_process.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/nats_server.hpp"

namespace infermesh::test {
namespace {

std::string model_dir() { return std::string(INFERMESH_SOURCE_DIR) + "/model-repository/sample-classifier"; }

}  // namespace

std::string sample_image(const std::string& file) { return std::string(INFERMESH_SOURCE_DIR) + "/samples/layouts/" + file; }

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string sample_classifier_config(const std::string& batching_yaml, const std::string& node_yaml,
                                     const std::string& input_yaml, const std::string& pipelines_yaml) {
  return "node:\n  name: node-t\n  stats_interval_ms: 0\n" + node_yaml +
         "models:\n"
         "  - name: doc-layout-sample\n"
         "    serves: classify\n"
         "    path: " + model_dir() + "/model.pt\n"
         "    labels_file: " + model_dir() + "/labels.txt\n"
         "    input: {width: 128, height: 128, color: rgb, resize: linear,\n"
         "            mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225]" +
         (input_yaml.empty() ? "" : ", " + input_yaml) + "}\n"
         "    batching: {" + batching_yaml + "}\n" + pipelines_yaml;
}

std::string ocr_model_yaml() {
  return "  - name: tesseract-eng\n"
         "    serves: [ocr, orient]\n"
         "    workers: 2\n";
}

std::string synthetic_config(int latency_us, const std::string& batching_yaml, const std::string& node_yaml,
                             const synthetic_extras& extras) {
  return "node:\n  name: node-t\n  stats_interval_ms: 0\n" + node_yaml +
         "models:\n"
         "  - name: synthetic\n"
         "    serves: classify\n"
         "    backend: synthetic\n"
         "    labels: [dark, mid, bright]\n"
         "    input: {width: 32, height: 32}\n"
         "    synthetic: {latency_us: " + std::to_string(latency_us) + extras.synthetic + "}\n"
         "    batching: {" + batching_yaml + "}\n" + extras.model +
         "pipelines: {classify: [classify]}\n" + extras.top;
}

std::unique_ptr<nats_transport> connect_client(const std::vector<std::string>& servers) {
  nats_options options;
  options.servers = servers;
  options.log_events = false;
  auto transport = nats_transport::connect(options);
  if (!transport) throw std::runtime_error("cannot connect a test client: " + transport.err().message);
  return std::move(*transport);
}

node_process::node_process(const std::string& config_yaml, const std::string& nats_url, const std::string& name,
                           const std::vector<std::string>& extra_args) {
  dir_ = make_temp_dir("infermesh-node");
  config_ = dir_ + "/node.yaml";
  std::ofstream(config_) << config_yaml;
  start(config_, nats_url, name, "", extra_args);
}

node_process::node_process(while_starting_t, const std::string& config_yaml, const std::string& nats_url,
                           const std::string& name) {
  dir_ = make_temp_dir("infermesh-node");
  config_ = dir_ + "/node.yaml";
  std::ofstream(config_) << config_yaml;
  start(config_, nats_url, name, "", {}, false);
}

bool node_process::wait_ready(std::chrono::milliseconds timeout) { return process_->wait_for_line("ready: serving", timeout); }

node_process::node_process(const config_file& file, const std::string& nats_url, const std::string& name) {
  dir_ = make_temp_dir("infermesh-node");
  config_ = file.path;
  start(config_, nats_url, name, file.node);
}

void node_process::start(const std::string& config, const std::string& nats_url, const std::string& name,
                         const std::string& cluster_node, const std::vector<std::string>& extra_args, bool wait) {
  std::vector<std::string> argv{INFERMESH_BINARY, "node", "--config", config, "--name", name};
  for (std::size_t at = 0; at <= nats_url.size();) {  // "url1,url2,...": several servers, tried in order
    const auto comma = std::min(nats_url.find(',', at), nats_url.size());
    argv.insert(argv.end(), {"--nats", nats_url.substr(at, comma - at)});
    at = comma + 1;
  }
  if (!cluster_node.empty()) argv.insert(argv.end(), {"--node", cluster_node});
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  process_ = std::make_unique<child_process>(name, argv);
  if (wait && !process_->wait_for_line("ready: serving", std::chrono::seconds(60)))
    throw std::runtime_error("node did not become ready:\n" + process_->output());
}

node_process::~node_process() {
  process_.reset();
  std::filesystem::remove_all(dir_);
}

std::optional<int> node_process::terminate(std::chrono::milliseconds timeout) {
  process_->signal(SIGTERM);
  return process_->wait_exit(timeout);
}

std::string node_process::stop_problem(std::chrono::milliseconds timeout) {
  const auto status = terminate(timeout);
  if (status == 0) return "";
  const std::string out = process_->output();
  std::size_t tail = out.size();  // the start of the last 60 lines
  for (int lines = 0; lines < 60 && tail > 0; ++lines) {
    const auto newline = out.rfind('\n', tail - 1);
    tail = newline == std::string::npos ? 0 : newline;
  }
  return (status ? "the node exited with status " + std::to_string(*status)
                 : "the node did not exit within " + std::to_string(timeout.count()) + " ms of SIGTERM") +
         "; the end of its output:\n" + out.substr(tail);
}

}  // namespace infermesh::test
