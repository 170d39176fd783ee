#include "runtime/health_gate.hpp"

#include "runtime/log.hpp"

namespace infermesh {

health_gate::health_gate(nats_transport& transport, std::map<std::string, std::set<std::string>> needs,
                         subscribe_fn subscribe)
    : transport_(transport), needs_(std::move(needs)), subscribe_(std::move(subscribe)) {}

health_gate::~health_gate() { close(); }

std::optional<error> health_gate::open() {
  for (const auto& [op, models] : needs_) {
    auto sub = subscribe_(op);
    if (!sub) return sub.err();
    std::lock_guard<std::mutex> guard(mutex_);
    active_[op] = *sub;
  }
  std::lock_guard<std::mutex> guard(mutex_);
  if (!closed_ && !thread_.joinable()) thread_ = std::thread([this] { run(); });
  return std::nullopt;
}

void health_gate::report(const std::string& model, bool healthy) {
  std::lock_guard<std::mutex> guard(mutex_);
  if (closed_) return;
  queue_.emplace_back(model, healthy);
  wake_.notify_one();
}

std::vector<int> health_gate::close() {
  std::thread gate_thread;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    closed_ = true;
    queue_.clear();
    wake_.notify_one();
    gate_thread = std::move(thread_);
  }
  if (gate_thread.joinable()) gate_thread.join();
  return subscriptions();
}

void health_gate::run() {
  for (;;) {
    std::pair<std::string, bool> next;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return closed_ || !queue_.empty(); });
      if (closed_) return;
      next = std::move(queue_.front());
      queue_.pop_front();
    }
    apply(next.first, next.second);
  }
}

void health_gate::apply(const std::string& model, bool healthy) {
  if (healthy) unhealthy_.erase(model);
  else unhealthy_.insert(model);
  log(healthy ? log_level::info : log_level::warn, "'", model, "' is ", healthy ? "healthy again" : "unhealthy");
  for (const auto& [op, models] : needs_) update(op);
}

void health_gate::update(const std::string& op) {
  bool ready = true;
  for (const auto& m : needs_.at(op)) ready = ready && !unhealthy_.count(m);
  std::optional<int> active;
  {
    std::lock_guard<std::mutex> guard(mutex_);
    if (auto found = active_.find(op); found != active_.end()) active = found->second;
  }
  if (!ready && active) {
    transport_.unsubscribe(*active);
    transport_.pause_pulling(op, true);  // a durable op's requests stay in the work queue for other nodes
    transport_.flush(std::chrono::seconds(1));  // the server knows before anyone reads the log line
    {
      std::lock_guard<std::mutex> guard(mutex_);
      active_.erase(op);
    }
    log(log_level::warn, {{"op", op}}, "stopped taking '", op, "': a model or actor it needs is unhealthy (other nodes take it)");
  } else if (ready && !active) {
    auto sub = subscribe_(op);
    if (!sub) return log(log_level::error, {{"op", op}}, "cannot take '", op, "' again: ", sub.err().message);
    {
      std::lock_guard<std::mutex> guard(mutex_);
      active_[op] = *sub;
    }
    transport_.pause_pulling(op, false);
    log(log_level::info, {{"op", op}}, "taking '", op, "' again");
  }
}

std::vector<int> health_gate::subscriptions() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::vector<int> ids;
  for (const auto& [op, id] : active_) ids.push_back(id);
  return ids;
}

std::string health_gate::subscribed_ops() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::string out;
  for (const auto& [op, id] : active_) out += (out.empty() ? "" : ", ") + op;
  return out;
}

}  // namespace infermesh
