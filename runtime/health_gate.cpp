#include "runtime/health_gate.hpp"

#include "runtime/log.hpp"

namespace infermesh {

health_gate::health_gate(nats_transport& transport, std::map<std::string, std::set<std::string>> needs,
                         subscribe_fn subscribe)
    : transport_(transport), needs_(std::move(needs)), subscribe_(std::move(subscribe)) {}

std::optional<error> health_gate::open() {
  std::lock_guard<std::mutex> guard(mutex_);
  for (const auto& [op, models] : needs_) {
    auto sub = subscribe_(op);
    if (!sub) return sub.err();
    active_[op] = *sub;
  }
  return std::nullopt;
}

void health_gate::report(const std::string& model, bool healthy) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (healthy) unhealthy_.erase(model);
  else unhealthy_.insert(model);
  log(healthy ? log_level::info : log_level::warn, "'", model, "' is ", healthy ? "healthy again" : "unhealthy");
  for (const auto& [op, models] : needs_) update(op);
}

void health_gate::update(const std::string& op) {
  bool ready = true;
  for (const auto& m : needs_.at(op)) ready = ready && !unhealthy_.count(m);
  auto found = active_.find(op);
  if (!ready && found != active_.end()) {
    transport_.unsubscribe(found->second);
    transport_.pause_pulling(op, true);  // a durable op's requests stay in the work queue for other nodes
    transport_.flush(std::chrono::seconds(1));  // the server knows before anyone reads the log line
    active_.erase(found);
    log(log_level::warn, "stopped taking '", op, "': a model or actor it needs is unhealthy (other nodes take it)");
  } else if (ready && found == active_.end()) {
    auto sub = subscribe_(op);
    if (!sub) return log(log_level::error, "cannot take '", op, "' again: ", sub.err().message);
    active_[op] = *sub;
    transport_.pause_pulling(op, false);
    log(log_level::info, "taking '", op, "' again");
  }
}

std::vector<int> health_gate::subscriptions() {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<int> ids;
  for (const auto& [op, id] : active_) ids.push_back(id);
  return ids;
}

std::string health_gate::subscribed_ops() {
  std::lock_guard<std::mutex> guard(mutex_);
  std::string out;
  for (const auto& [op, id] : active_) out += (out.empty() ? "" : ", ") + op;
  return out;
}

}  // namespace infermesh
