#include "runtime/model_client.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <sstream>

#include "messages/subjects.hpp"

namespace infermesh {
namespace {

using json = nlohmann::json;

constexpr int exit_ok = 0;
constexpr int exit_error_reply = 1;
constexpr int exit_no_node = 3;

std::string text_at(const json& j, const char* key) {
  auto found = j.find(key);
  if (found == j.end()) return "";
  if (found->is_string()) return found->get<std::string>();
  return found->dump();
}

std::string last_used(const json& m) {
  auto found = m.find("last_used_s");
  if (found == m.end() || !found->is_number() || found->get<double>() < 0) return "never";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f s ago", found->get<double>());
  return buffer;
}

std::string table(const json& models) {
  std::vector<std::vector<std::string>> rows{{"MODEL", "VERSION", "BACKEND", "STATE", "LOADED", "LOADS", "EVICTIONS", "LAST USED"}};
  for (const auto& m : models)
    rows.push_back({text_at(m, "name"), text_at(m, "version"), text_at(m, "backend"), text_at(m, "state"),
                    m.value("loaded", false) ? "yes" : "no", text_at(m, "loads"), text_at(m, "evictions"), last_used(m)});
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& r : rows)
    for (std::size_t i = 0; i < r.size(); ++i) widths[i] = std::max(widths[i], r[i].size());
  std::ostringstream out;
  for (const auto& r : rows) {
    for (std::size_t i = 0; i < r.size(); ++i) {
      out << r[i];
      if (i + 1 < r.size()) out << std::string(widths[i] - r[i].size() + 2, ' ');
    }
    out << "\n";
  }
  return out.str();
}

}  // namespace

model_client_result run_model_client(nats_transport& transport, const std::string& verb, const std::string& node,
                                     const std::string& model, std::chrono::milliseconds timeout, bool as_json) {
  json command{{"command", verb}};
  if (!model.empty()) command["model"] = model;
  const auto subject = wire::control_subject(node);
  auto answer = transport.request(subject, command.dump(), timeout);
  model_client_result r;
  if (!answer) {
    r.status = exit_no_node;
    r.err = answer.err().code == error_code::unavailable
                ? "infermesh: no node '" + node + "' answers on " + subject +
                      " (is it running, with node.control: true?)\n"
                : "infermesh: node '" + node + "' did not answer within " + std::to_string(timeout.count()) +
                      " ms: " + answer.err().message + "\n";
    return r;
  }
  const std::string body(answer->view());
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    r.status = exit_error_reply;
    r.err = "infermesh: node '" + node + "' answered something that is not a JSON object: " + body + "\n";
    return r;
  }
  const bool ok = j.value("ok", false);
  r.status = ok ? exit_ok : exit_error_reply;
  if (as_json) {
    r.out = body + "\n";
    return r;
  }
  if (!ok) {
    r.err = "infermesh: " + text_at(j, "code") + ": " + text_at(j, "error") + "\n";
    return r;
  }
  if (verb == "list") {
    r.out = table(j.value("models", json::array()));
    return r;
  }
  const auto m = j.value("model", json::object());
  r.out = "model '" + text_at(m, "name") + "' on node '" + node + "': v" + text_at(m, "version") + " " + text_at(m, "state") +
          " (" + (m.value("loaded", false) ? "loaded" : "not loaded") + ", " + text_at(m, "loads") + " load(s))\n";
  return r;
}

}  // namespace infermesh
