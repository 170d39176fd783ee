#include "runtime/status_command.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <condition_variable>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include "messages/subjects.hpp"

namespace infermesh {
namespace {

using json = nlohmann::json;

/// Answers as they arrive on the reply inbox; shared with the subscription's handler.
struct gathered {
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> answers;  // (inbox subject, body)
};

std::string string_at(const json& j, const char* key) {
  auto found = j.find(key);
  return found != j.end() && found->is_string() ? found->get<std::string>() : std::string();
}

std::uint64_t number_at(const json& j, const char* key) {
  auto found = j.find(key);
  return found != j.end() && found->is_number_unsigned() ? found->get<std::uint64_t>() : 0;
}

/// Seconds since an RFC 3339 UTC time ("...Z"); -1 when it does not parse.
double seconds_since(const std::string& rfc) {
  std::tm t{};
  if (rfc.size() < 19 || !strptime(rfc.substr(0, 19).c_str(), "%Y-%m-%dT%H:%M:%S", &t)) return -1;
  const auto then = std::chrono::system_clock::from_time_t(timegm(&t));
  return std::chrono::duration<double>(std::chrono::system_clock::now() - then).count();
}

/// PING's `models` metadata ("name@version=healthy,..."): health only.
std::vector<model_figures> models_of_metadata(const std::string& text) {
  std::vector<model_figures> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    model_figures m;
    const auto at = item.find('@'), eq = item.find('=');
    m.name = item.substr(0, std::min(at, eq));
    if (at != std::string::npos) m.version = item.substr(at + 1, eq == std::string::npos ? eq : eq - at - 1);
    m.healthy = eq == std::string::npos || item.substr(eq + 1) != "unhealthy";
    m.state = m.healthy ? "serving" : "unhealthy";
    out.push_back(std::move(m));
  }
  return out;
}

model_figures figures_of(const json& j) {
  model_figures m;
  m.name = string_at(j, "name");
  m.version = string_at(j, "version");
  m.state = string_at(j, "state");
  m.reason = string_at(j, "reason");
  m.healthy = !j.contains("healthy") || j["healthy"] != false;
  m.restarts = number_at(j, "restarts");
  m.queue_depth = number_at(j, "queue_depth");
  m.requests = number_at(j, "requests");
  m.batches = number_at(j, "batches");
  if (auto mean = j.find("mean_batch_size"); mean != j.end() && mean->is_number()) m.mean_batch = mean->get<double>();
  return m;
}

/// Fills `n` from one parsed answer of type `type`.
void absorb(node_status& n, const json& j, const std::string& type, const std::string& raw) {
  const auto& meta = j.contains("metadata") && j["metadata"].is_object() ? j["metadata"] : json::object();
  if (n.node.empty()) n.node = string_at(meta, "node");
  if (n.host.empty()) n.host = string_at(meta, "host");
  n.version = string_at(j, "version");
  if (type == "io.nats.micro.v1.ping_response") {
    n.ping = raw;
    if (n.models.empty()) n.models = models_of_metadata(string_at(meta, "models"));
  } else if (type == "io.nats.micro.v1.info_response") {
    n.info = raw;
    n.ops.clear();
    if (j.contains("endpoints") && j["endpoints"].is_array())
      for (const auto& e : j["endpoints"]) n.ops.push_back(string_at(e, "name"));
  } else if (type == "io.nats.micro.v1.stats_response") {
    n.stats = raw;
    n.uptime_s = seconds_since(string_at(j, "started"));
    std::vector<model_figures> models;
    std::vector<std::string> ops;
    std::uint64_t processing = 0;
    n.requests = n.errors = 0;
    if (j.contains("endpoints") && j["endpoints"].is_array())
      for (const auto& e : j["endpoints"]) {
        ops.push_back(string_at(e, "name"));
        n.requests += number_at(e, "num_requests");
        n.errors += number_at(e, "num_errors");
        processing += number_at(e, "processing_time");
        if (!e.contains("data") || !e["data"].is_object() || !e["data"].contains("models")) continue;
        for (const auto& m : e["data"]["models"]) {
          if (!m.is_object()) continue;
          auto f = figures_of(m);
          if (std::none_of(models.begin(), models.end(), [&](const model_figures& x) { return x.name == f.name; }))
            models.push_back(std::move(f));
        }
      }
    n.average_ms = n.requests ? static_cast<double>(processing) / static_cast<double>(n.requests) / 1e6 : 0;
    if (n.ops.empty()) n.ops = ops;
    // PING's metadata lists every hosted model; STATS has figures for those an op uses.
    for (auto& m : models) {
      auto same = std::find_if(n.models.begin(), n.models.end(), [&](const model_figures& x) { return x.name == m.name; });
      if (same != n.models.end()) *same = m;
      else n.models.push_back(m);
    }
  }
  n.queue_depth = 0;
  for (const auto& m : n.models) n.queue_depth += m.queue_depth;
}

std::string join(const std::vector<std::string>& items, const char* sep) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : sep) + i;
  return out;
}

std::string model_cell(const model_figures& m) {
  std::string state = m.healthy ? m.state : "UNHEALTHY" + (m.reason.empty() ? "" : " (" + m.reason + ")");
  return m.name + "@" + m.version + " " + state + " r" + std::to_string(m.restarts);
}

std::string uptime_cell(double s) {
  if (s < 0) return "?";
  const auto total = static_cast<long long>(s);
  char out[32];
  if (total >= 3600) std::snprintf(out, sizeof out, "%lldh%02lldm", total / 3600, total / 60 % 60);
  else if (total >= 60) std::snprintf(out, sizeof out, "%lldm%02llds", total / 60, total % 60);
  else std::snprintf(out, sizeof out, "%llds", total);
  return out;
}

json parsed_or_null(const std::string& raw) { return raw.empty() ? json() : json::parse(raw, nullptr, false); }

}  // namespace

std::vector<node_status> discover_nodes(nats_transport& transport, std::chrono::milliseconds wait) {
  auto inbox = std::make_shared<gathered>();
  const auto prefix = transport.new_inbox();
  auto sub = transport.subscribe(prefix + ".*", "", [inbox](incoming_message&& in) {
    std::lock_guard<std::mutex> lock(inbox->mutex);
    inbox->answers.emplace_back(in.subject, std::string(in.payload.view()));
  });
  if (!sub) return {};
  for (auto verb : wire::service_verbs)
    transport.publish(wire::service_subject(verb, wire::service_name), "", prefix + "." + std::string(verb));
  transport.flush(wait);
  std::this_thread::sleep_for(wait);  // every node answers within it, or is taken as gone
  transport.unsubscribe(*sub);

  std::vector<std::pair<std::string, std::string>> answers;
  {
    std::lock_guard<std::mutex> lock(inbox->mutex);
    answers = inbox->answers;
  }
  std::map<std::string, node_status> by_id;
  for (const auto& [subject, body] : answers) {
    auto j = json::parse(body, nullptr, false);
    if (!j.is_object() || string_at(j, "name") != wire::service_name || string_at(j, "id").empty()) continue;
    auto& n = by_id[string_at(j, "id")];
    n.id = string_at(j, "id");
    absorb(n, j, string_at(j, "type"), body);
  }
  std::vector<node_status> out;
  for (auto& [id, n] : by_id) out.push_back(std::move(n));
  std::sort(out.begin(), out.end(), [](const node_status& a, const node_status& b) {
    return std::tie(a.node, a.id) < std::tie(b.node, b.id);
  });
  return out;
}

std::string format_status_table(const std::vector<node_status>& nodes) {
  if (nodes.empty()) return "no infermesh node answered\n";
  std::vector<std::vector<std::string>> rows{
      {"NODE", "HOST", "OPS", "MODELS (state, restarts)", "QUEUE", "REQUESTS", "ERRORS", "AVG MS", "UPTIME"}};
  for (const auto& n : nodes) {
    std::vector<std::string> models;
    for (const auto& m : n.models) models.push_back(model_cell(m));
    char avg[32];
    std::snprintf(avg, sizeof avg, "%.2f", n.average_ms);
    rows.push_back({n.node.empty() ? n.id : n.node, n.host, join(n.ops, ","), join(models, ", "),
                    std::to_string(n.queue_depth), std::to_string(n.requests), std::to_string(n.errors), avg,
                    uptime_cell(n.uptime_s)});
  }
  std::vector<std::size_t> width(rows.front().size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) width[i] = std::max(width[i], r[i].size());
  std::string out;
  for (const auto& r : rows) {
    std::string line;
    for (std::size_t i = 0; i < r.size(); ++i) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 2, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string format_status_json(const std::vector<node_status>& nodes) {
  json list = json::array();
  for (const auto& n : nodes) {
    json models = json::array();
    for (const auto& m : n.models)
      models.push_back({{"name", m.name}, {"version", m.version}, {"state", m.state}, {"reason", m.reason},
                        {"healthy", m.healthy}, {"restarts", m.restarts}, {"queue_depth", m.queue_depth},
                        {"requests", m.requests}, {"batches", m.batches}, {"mean_batch_size", m.mean_batch}});
    list.push_back({{"node", n.node}, {"host", n.host}, {"id", n.id}, {"version", n.version}, {"ops", n.ops},
                    {"models", models}, {"queue_depth", n.queue_depth}, {"requests", n.requests},
                    {"errors", n.errors}, {"average_processing_ms", n.average_ms}, {"uptime_s", n.uptime_s},
                    {"ping", parsed_or_null(n.ping)}, {"info", parsed_or_null(n.info)},
                    {"stats", parsed_or_null(n.stats)}});
  }
  return json{{"nodes", list}}.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace infermesh
