#include "support/prometheus_server.hpp"

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "support/free_port.hpp"
#include "support/http_client.hpp"
#include "support/nats_server.hpp"

namespace infermesh::test {

prometheus_server::prometheus_server(const std::vector<std::string>& targets) {
  std::string list;
  for (const auto& t : targets) list += (list.empty() ? "'" : ", '") + t + "'";
  constexpr int attempts = 3;  // a free port can be taken between the probe and the bind: try another
  for (int i = 0; i < attempts && !process_; ++i) {
    port_ = free_loopback_port();
    dir_ = make_temp_dir("infermesh-prometheus");
    const auto conf = dir_ + "/prometheus.yml";
    std::ofstream(conf) << "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
                           "scrape_configs:\n"
                           "  - job_name: infermesh\n"
                           "    static_configs: [{targets: [" << list << "]}]\n";
    auto p = std::make_unique<child_process>(
        "prometheus", std::vector<std::string>{PROMETHEUS_BINARY, "--config.file=" + conf, "--storage.tsdb.path=" + dir_ + "/tsdb",
                                               "--web.listen-address=127.0.0.1:" + std::to_string(port_)});
    if (p->wait_for_line("Server is ready to receive web requests", std::chrono::seconds(30))) process_ = std::move(p);
    else std::filesystem::remove_all(dir_);
  }
  if (!process_) throw std::runtime_error("prometheus did not start");
}

prometheus_server::~prometheus_server() {
  process_->signal(SIGTERM);
  process_->wait_exit(std::chrono::seconds(10));
  process_.reset();  // SIGKILLs it if SIGTERM was not enough
  std::filesystem::remove_all(dir_);
}

std::optional<double> prometheus_server::query_value(const std::string& promql) {
  auto answer = http_get(port_, "/api/v1/query?query=" + url_encoded(promql), std::chrono::seconds(5));
  if (!answer || answer->status != 200) return std::nullopt;
  const auto j = nlohmann::json::parse(answer->body);
  if (j.at("status") != "success") throw std::runtime_error("prometheus: " + answer->body);
  const auto& data = j.at("data");
  const auto& result = data.at("result");
  nlohmann::json sample;
  if (data.at("resultType") == "scalar") sample = result;
  else if (result.is_array() && result.size() == 1) sample = result.at(0).at("value");
  else return std::nullopt;
  return std::stod(sample.at(1).get<std::string>());  // [time, "value"]; "NaN" parses as NaN
}

}  // namespace infermesh::test
