#include "runtime/request_client.hpp"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "messages/subjects.hpp"

namespace infermesh {

reply send_request(nats_transport& transport, const std::string& op, const request& req, encoding enc,
                   std::chrono::milliseconds timeout) {
  if (!wire::is_op(op)) {
    std::string known;
    for (auto name : wire::ops) known += (known.empty() ? "" : ", ") + std::string(name);
    return reply::failed(req.id, op, error_code::not_found, "unknown op '" + op + "' (v1 ops: " + known + ")");
  }
  const auto payload = encode_request(req, enc);
  auto answer = transport.request(wire::op_subject(op), payload, timeout);
  if (!answer) return reply::failed(req.id, op, answer.err().code, answer.err().message);
  auto decoded = decode_reply(*answer);
  if (!decoded) return reply::failed(req.id, op, error_code::internal, "unreadable reply: " + decoded.err().message);
  return std::move(*decoded);
}

std::string random_request_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char out[32];
  std::snprintf(out, sizeof out, "req-%016llx", static_cast<unsigned long long>(rng()));
  return out;
}

reply send_with_retries(nats_transport& transport, const std::string& op, request req, encoding enc,
                        const retry_policy& policy, int* tries) {
  if (req.id.empty()) req.id = random_request_id();
  reply rep;
  for (int attempt = 1; attempt <= std::max(1, policy.attempts); ++attempt) {
    if (tries) *tries = attempt;
    rep = send_request(transport, op, req, enc, policy.attempt_timeout);
    const bool unanswered = !rep.ok && rep.node.empty();  // timeout or no responders: nobody took it
    const bool retry_elsewhere =
        rep.failure && (rep.failure->code == error_code::overloaded || rep.failure->code == error_code::unavailable);
    if (rep.ok || !(unanswered || retry_elsewhere) || rep.failure->code == error_code::not_found) return rep;
    if (attempt < policy.attempts) std::this_thread::sleep_for(policy.backoff);
  }
  return rep;
}

reply send_durable(nats_transport& transport, const std::string& op, request req, encoding enc,
                   std::chrono::milliseconds timeout) {
  if (req.id.empty()) req.id = random_request_id();
  struct first_reply {
    std::mutex mutex;
    std::condition_variable arrived;
    std::optional<std::string> payload;
  };
  auto box = std::make_shared<first_reply>();
  const auto inbox = transport.new_inbox();
  auto sub = transport.subscribe(inbox, "", [box](incoming_message&& m) {
    std::lock_guard<std::mutex> g(box->mutex);
    if (!box->payload) box->payload = std::string(m.payload.view());  // at-least-once: keep the first
    box->arrived.notify_all();
  });
  if (!sub) return reply::failed(req.id, op, error_code::unavailable, sub.err().message);
  req.reply_to = inbox;
  const auto payload = encode_request(req, enc);
  // Replies are core NATS: one sent while this connection was down (its server died) is lost, though the node
  // acked the request; counted from before the publish, whose first attempt may have landed before the outage.
  auto reconnects = transport.reconnects();
  // The publish rides out the stream's leader elections (a NATS server died) within the call's timeout.
  const auto until = std::chrono::steady_clock::now() + timeout;
  if (auto e = transport.publish_durable(wire::durable_subject(op), payload, req.id, timeout)) {
    transport.unsubscribe(*sub);
    return reply::failed(req.id, op, error_code::unavailable, e->message);
  }
  // After each reconnect, ask again over request-reply with the same id, answered to the same inbox: the node
  // that answered has the reply in its reply cache (one still working on it answers once, here), any other
  // node computes it again (at least once, as durable delivery is). The first reply wins.
  std::unique_lock<std::mutex> lock(box->mutex);
  while (!box->payload) {
    const auto left = until - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) break;
    box->arrived.wait_for(lock, std::min<std::chrono::steady_clock::duration>(left, std::chrono::milliseconds(100)));
    if (box->payload) break;
    const auto count = transport.reconnects();
    if (count == reconnects) continue;
    reconnects = count;
    req.reply_to.reset();
    lock.unlock();  // the reply may arrive meanwhile: its callback needs the box
    transport.publish(wire::op_subject(op), encode_request(req, enc), inbox);  // unanswered if no node takes it: wait on
    lock.lock();
  }
  const bool got = box->payload.has_value();
  const auto text = box->payload;
  lock.unlock();
  transport.unsubscribe(*sub);
  if (!got) return reply::failed(req.id, op, error_code::deadline_exceeded, "no reply within the timeout");
  auto decoded = decode_reply(shared_bytes::copy_of(*text));
  if (!decoded) return reply::failed(req.id, op, error_code::internal, "unreadable reply: " + decoded.err().message);
  return std::move(*decoded);
}

}  // namespace infermesh
