#include "simulator/fault_injector.hpp"

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "messages/subjects.hpp"
#include "runtime/http_client.hpp"
#include "runtime/status_command.hpp"
#include "simulator/link_proxy.hpp"

namespace infermesh::sim {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr auto api_timeout = std::chrono::milliseconds(3000);
/// How long past its lame-duck period (or drain) a process may take to exit before its restart is given up.
constexpr double stop_margin_ms = 60000;

std::string param(const planned_fault& f, const std::string& key, const std::string& fallback = "") {
  const auto it = f.params.find(key);
  return it == f.params.end() ? fallback : it->second;
}

bool is_process_fault(const std::string& k) { return k == "kill" || k == "term" || k == "pause" || k == "restart"; }
bool is_link_fault(const std::string& k) {
  return k == "latency" || k == "bandwidth" || k == "blackhole" || k == "reset" || k == "slice";
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

fault_injector::fault_injector(nats_transport& transport, derived_cluster& cluster, std::vector<launcher_ref> launchers,
                               host_network* network, std::function<double()> now_ms,
                               std::function<void(const std::string&, const std::string&)> journal)
    : transport_(transport),
      cluster_(cluster),
      launchers_(std::move(launchers)),
      network_(network),
      now_ms_(std::move(now_ms)),
      journal_(std::move(journal)) {}

std::string fault_injector::host_of(const std::string& name) const {
  if (const auto it = cluster_.plan.node_host.find(name); it != cluster_.plan.node_host.end()) return it->second;
  for (const auto& s : cluster_.plan.nats_servers)
    if (s.name == name) return s.host;
  return "";
}

double fault_injector::patience_ms() const {
  return static_cast<double>(cluster_.plan.lame_duck.count()) + stop_margin_ms;
}

const launcher_ref* fault_injector::launcher_of(const std::string& name) const {
  const auto host = host_of(name);
  for (const auto& l : launchers_)
    if (l.host.empty() || l.host == host) return &l;
  return nullptr;
}

pid_t fault_injector::pid_of(const std::string& name) {
  const auto* l = launcher_of(name);
  if (!l) return -1;
  std::ifstream in(fs::path(l->run_dir) / "pids" / (name + ".pid"));
  long pid = -1;
  if (!(in >> pid) || pid <= 0) return -1;
  seen_.insert(static_cast<pid_t>(pid));
  return static_cast<pid_t>(pid);
}

std::optional<std::string> fault_injector::control(const std::string& node, const std::string& command) {
  auto answer = transport_.request(wire::control_subject(node), command, api_timeout);
  if (!answer) return "control subject of '" + node + "': " + answer.err().message;
  const auto reply = json::parse(std::string(answer->view()), nullptr, false);
  if (!reply.is_object() || !reply.value("ok", false))
    return "node '" + node + "' refused " + command + ": " +
           (reply.is_object() && reply.contains("error") ? reply["error"].dump() : std::string(answer->view()));
  return std::nullopt;
}

std::optional<std::string> fault_injector::js_api(const std::string& subject, std::string* response) {
  auto answer = transport_.request(subject, "", api_timeout);
  if (!answer) return subject + ": " + answer.err().message;
  const auto reply = json::parse(std::string(answer->view()), nullptr, false);
  if (!reply.is_object()) return subject + ": not JSON";
  if (reply.contains("error")) return subject + ": " + reply["error"].dump();
  if (response) *response = std::string(answer->view());
  return std::nullopt;
}

std::optional<std::string> fault_injector::resolve(const planned_fault& f, std::vector<std::string>& targets) {
  const auto& t = f.target;
  std::vector<std::string> candidates;
  const std::string stream = param(f, "stream", std::string(wire::work_queue_stream));
  if (f.kind == "stepdown-stream") {  // the target (none, or role stream-leader) is the stream itself
    targets = {stream};
    return std::nullopt;
  }
  if (f.kind == "stepdown-consumer") {
    targets = {param(f, "consumer", wire::durable_consumer(param(f, "op", t.op.empty() ? "process" : t.op)))};
    return std::nullopt;
  }
  if (!t.node.empty()) candidates = {t.node};
  else if (!t.nats.empty()) candidates = {t.nats};
  else if (!t.host.empty()) candidates = {t.host};
  else if (t.role == "node") {
    if (t.serves.empty()) candidates = cluster_.plan.nodes;
    else
      for (const auto& n : discover_nodes(transport_, std::chrono::milliseconds(1000)))
        for (const auto& op : n.ops)
          if (op == t.serves) candidates.push_back(n.node);
    if (candidates.empty()) return "no node serves '" + t.serves + "' now";
  } else if (t.role == "nats") {
    for (const auto& s : cluster_.plan.nats_servers) {
      if (t.of.empty()) {
        candidates.push_back(s.name);
        continue;
      }
      auto connz = http_get(s.address, s.monitor_port, "/connz?limit=4096", api_timeout);
      if (!connz || connz->status != 200) continue;
      const auto body = json::parse(connz->body, nullptr, false);
      if (!body.is_object() || !body.contains("connections")) continue;
      for (const auto& c : body["connections"])
        if (c.value("name", "") == std::string(wire::client_name) + ":" + t.of) candidates.push_back(s.name);
    }
    if (candidates.empty()) return t.of.empty() ? "the cluster file launches no NATS server" : "node '" + t.of + "' is connected to no server now";
  } else if (t.role == "host") {
    for (const auto& h : cluster_.plan.hosts) candidates.push_back(h.name);
  } else if (t.role == "stream-leader" || t.role == "consumer-leader") {
    std::string info;
    const auto subject = t.role == "stream-leader" ? "$JS.API.STREAM.INFO." + stream
                                                   : "$JS.API.CONSUMER.INFO." + stream + "." + wire::durable_consumer(t.op);
    if (auto e = js_api(subject, &info)) return e;
    const auto body = json::parse(info, nullptr, false);
    const auto leader = body.contains("cluster") ? body["cluster"].value("leader", "") : "";
    if (leader.empty()) return subject + ": no leader now";
    candidates = {leader};
  } else {
    return "the fault has no target";
  }
  targets = choose_targets(t, candidates, f.seed);
  return std::nullopt;
}

std::optional<std::string> fault_injector::apply_to(const planned_fault& f, const std::string& target, std::string& detail) {
  const auto& k = f.kind;
  if (is_process_fault(k) || k == "lame-duck") {
    const pid_t pid = pid_of(target);
    if (pid <= 0) return "'" + target + "' does not run now";
    const int sig = k == "kill" ? SIGKILL : k == "pause" ? SIGSTOP : k == "lame-duck" ? SIGUSR2 : SIGTERM;
    if (::kill(pid, sig) != 0) return "cannot signal '" + target + "' (pid " + std::to_string(pid) + ")";
    const char* name = sig == SIGKILL ? "SIGKILL" : sig == SIGSTOP ? "SIGSTOP" : sig == SIGUSR2 ? "SIGUSR2 (lame duck)" : "SIGTERM";
    detail = std::string(name) + " to " + target + " (pid " + std::to_string(pid) + ")";
    if (k == "pause") paused_[target] = pid;
    if (k == "restart") restart_when_stopped_[target] = now_ms_() + patience_ms();
    return std::nullopt;
  }
  if (k == "crash" || k == "slow" || k == "fail" || k == "fail-load") {
    const auto actor = param(f, "actor", "model");
    json command;
    if (actor == "router") command = {{"actor", "router"}, {"action", "crash"}};
    else {
      command = {{"model", param(f, "model")}, {"action", k}};
      if (k == "crash" && actor != "model") command["target"] = actor;
      if (k == "slow") command["value"] = std::stoll(param(f, "ms", "0"));
      if (k == "fail" || k == "fail-load") command["value"] = std::stoll(param(f, "count", "1"));
    }
    detail = target + " <- " + command.dump();
    return control(target, command.dump());
  }
  if (k == "stepdown-stream" || k == "stepdown-consumer") {
    const std::string stream = param(f, "stream", std::string(wire::work_queue_stream));
    const auto subject = k == "stepdown-stream" ? "$JS.API.STREAM.LEADER.STEPDOWN." + stream
                                                : "$JS.API.CONSUMER.LEADER.STEPDOWN." + stream + "." + target;
    detail = subject;
    return js_api(subject);
  }
  if (k == "partition" || k == "link-down") {
    if (!network_) return "network faults need `cluster: {hosts: namespaces}`";
    if (k == "link-down") {
      detail = "link of host " + target + " down";
      if (auto e = network_->link_down(target)) return e->message;
      return std::nullopt;
    }
    const auto peers = split(param(f, "peers"));
    const bool one_way = param(f, "one_way", "false") == "true";
    detail = std::string(one_way ? "one-way " : "") + "partition of host " + target + " from " +
             (peers.empty() ? std::string("every other host") : param(f, "peers"));
    if (auto e = network_->partition(target, peers, one_way)) return e->message;
    return std::nullopt;
  }
  if (is_link_fault(k)) {
    auto toxic = parse_link_toxic(k, f.params);
    if (!toxic) return toxic.err().message;
    toxic->seed = f.seed;
    const auto it = cluster_.proxies.find(target);
    if (it == cluster_.proxies.end() || it->second.empty()) return "node '" + target + "' has no link proxy";
    for (auto& p : it->second) p->set(*toxic);
    detail = k + " on the link of " + target + " (" + std::to_string(it->second.size()) + " proxies)";
    return std::nullopt;
  }
  return "unknown fault kind '" + k + "'";
}

fault_record fault_injector::apply(const planned_fault& f) {
  fault_record r;
  r.plan = f;
  r.start_ms = now_ms_();
  if (auto e = resolve(f, r.targets)) {
    r.error = *e;
    journal_("apply", "fault " + std::to_string(f.index) + " " + f.kind + ": " + *e);
    return r;
  }
  std::vector<std::string> hit;
  for (const auto& target : r.targets) {
    std::string detail;
    if (auto e = apply_to(f, target, detail)) r.error += (r.error.empty() ? "" : "; ") + *e;
    else r.detail += (r.detail.empty() ? "" : "; ") + detail, hit.push_back(target);
  }
  // Undone on what it hit: a target it could not reach is named in `error` (a failed check) and not undone.
  r.applied = !hit.empty();
  r.targets = hit.empty() ? r.targets : hit;
  journal_("apply", "fault " + std::to_string(f.index) + " " + f.kind + ": " + (r.detail.empty() ? r.error : r.detail));
  return r;
}

void fault_injector::undo(fault_record& r) {
  const auto& k = r.plan.kind;
  std::string done;
  for (const auto& target : r.targets) {
    if (k == "pause") {
      if (auto it = paused_.find(target); it != paused_.end()) {
        ::kill(it->second, SIGCONT);
        paused_.erase(it);
        done += "SIGCONT " + target + "; ";
      }
    } else if (k == "term" || k == "lame-duck") {
      restart_when_stopped_[target] = now_ms_() + patience_ms();
      done += "start " + target + " again once it stopped; ";
    } else if (k == "slow" || k == "fail" || k == "fail-load") {
      json heal = {{"model", r.plan.params.count("model") ? r.plan.params.at("model") : ""}, {"action", "heal"}};
      if (auto e = control(target, heal.dump())) r.error += (r.error.empty() ? "" : "; ") + *e;
      else done += "heal " + target + "; ";
    } else if ((k == "partition" || k == "link-down") && network_) {
      if (auto e = network_->heal(target)) r.error += (r.error.empty() ? "" : "; ") + e->message;
      else done += "heal host " + target + "; ";
    } else if (is_link_fault(k)) {
      if (auto it = cluster_.proxies.find(target); it != cluster_.proxies.end())
        for (auto& p : it->second) p->clear();
      done += "clear link of " + target + "; ";
    }
  }
  r.end_ms = now_ms_();
  journal_("undo", "fault " + std::to_string(r.plan.index) + " " + k + ": " + (done.empty() ? "nothing to undo" : done));
}

void fault_injector::tick() {
  for (auto it = restart_when_stopped_.begin(); it != restart_when_stopped_.end();) {
    const auto& name = it->first;
    if (pid_of(name) > 0) {  // still running (draining, in lame duck)
      if (now_ms_() > it->second) {
        journal_("undo", name + " did not stop in time: not started again");
        it = restart_when_stopped_.erase(it);
      } else {
        ++it;
      }
      continue;
    }
    if (const auto* l = launcher_of(name); l && l->pid > 0) {
      // Only this one: the launcher starts what `start/` names (another stopped process may be a fault in force).
      std::error_code ignored;
      fs::create_directories(fs::path(l->run_dir) / "start", ignored);
      std::ofstream(fs::path(l->run_dir) / "start" / name);
      ::kill(l->pid, SIGHUP);
      journal_("undo", "SIGHUP to the launcher: start " + name + " again");
    }
    it = restart_when_stopped_.erase(it);
  }
}

void fault_injector::release_all() {
  for (auto& [name, pid] : paused_) ::kill(pid, SIGCONT);
  paused_.clear();
  for (auto& [node, proxies] : cluster_.proxies)
    for (auto& p : proxies) p->clear();
}

}  // namespace infermesh::sim
