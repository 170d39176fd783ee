#include "simulator/reply_counter.hpp"

#include "messages/codec.hpp"

namespace infermesh::sim {

outcome<std::unique_ptr<reply_counter>> reply_counter::start(const nats_options& options, std::string prefix) {
  std::unique_ptr<reply_counter> c(new reply_counter());
  c->prefix_ = std::move(prefix);
  c->counts_.resize(options.servers.size());
  auto* self = c.get();
  for (std::size_t i = 0; i < options.servers.size(); ++i) {
    auto pinned = options;
    pinned.servers = {options.servers[i]};
    pinned.ignore_discovered_servers = true;  // stays on its server: the others have their own
    auto t = nats_transport::connect(pinned);
    if (!t) return t.err();
    auto sub = (*t)->subscribe("_INBOX.>", "", [self, i](incoming_message&& in) {
      if (in.payload.size() == 0) return;  // JetStream's empty acks and status messages
      // Inboxes also carry requests: JetStream delivers pulled work-queue messages to the node's pull inbox. A
      // reply is the map with `ok` (protocol.md).
      const auto v = decode_value(in.payload, detect_encoding(in.payload), decode_limits{});
      if (!v || v->find("ok") == nullptr) return;
      auto rep = decode_reply(in.payload);
      if (!rep || rep->id.compare(0, self->prefix_.size(), self->prefix_) != 0) return;
      std::lock_guard<std::mutex> g(self->mutex_);
      ++self->counts_[i][rep->id];
    });
    if (!sub) return sub.err();
    if (auto e = (*t)->flush(std::chrono::seconds(5))) return *e;
    c->transports_.push_back(std::move(*t));
  }
  return c;
}

void reply_counter::stop() {
  for (auto& t : transports_) t->flush(std::chrono::seconds(2));
  transports_.clear();
}

std::map<std::string, int> reply_counter::counts() {
  std::lock_guard<std::mutex> g(mutex_);
  std::map<std::string, int> out;
  for (const auto& seen : counts_)
    for (const auto& [id, n] : seen) out[id] = std::max(out[id], n);
  return out;
}

}  // namespace infermesh::sim
