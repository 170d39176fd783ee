#include "simulator/reply_counter.hpp"

#include "messages/codec.hpp"

namespace infermesh::sim {

outcome<std::unique_ptr<reply_counter>> reply_counter::start(const nats_options& options, std::string prefix) {
  auto t = nats_transport::connect(options);
  if (!t) return t.err();
  std::unique_ptr<reply_counter> c(new reply_counter());
  c->transport_ = std::move(*t);
  c->prefix_ = std::move(prefix);
  auto* self = c.get();
  auto sub = c->transport_->subscribe("_INBOX.>", "", [self](incoming_message&& in) {
    if (in.payload.size() == 0) return;  // JetStream's empty acks and status messages
    // Inboxes also carry requests: JetStream delivers pulled work-queue messages to the node's pull inbox. A
    // reply is the map with `ok` (protocol.md).
    const auto v = decode_value(in.payload, detect_encoding(in.payload), decode_limits{});
    if (!v || v->find("ok") == nullptr) return;
    auto rep = decode_reply(in.payload);
    if (!rep || rep->id.compare(0, self->prefix_.size(), self->prefix_) != 0) return;
    std::lock_guard<std::mutex> g(self->mutex_);
    ++self->counts_[rep->id];
  });
  if (!sub) return sub.err();
  if (auto e = c->transport_->flush(std::chrono::seconds(5))) return *e;
  return c;
}

void reply_counter::stop() {
  if (transport_) transport_->flush(std::chrono::seconds(2));
  transport_.reset();
}

std::map<std::string, int> reply_counter::counts() {
  std::lock_guard<std::mutex> g(mutex_);
  return counts_;
}

}  // namespace infermesh::sim
