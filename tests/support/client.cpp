#include "support/client.hpp"

#include <opencv2/imgcodecs.hpp>

#include <stdexcept>

#include "messages/subjects.hpp"
#include "support/node_process.hpp"

namespace infermesh::test {

client::client(const std::string& nats_url) {
  nats_options opts;
  opts.servers = {nats_url};
  opts.log_events = false;
  auto t = nats_transport::connect(opts);
  if (!t) throw std::runtime_error(t.err().message);
  transport_ = std::move(*t);
}

reply client::send(const std::string& op, const request& req, encoding enc, std::chrono::milliseconds timeout) {
  return send_request(*transport_, op, req, enc, timeout);
}

reply client::send_raw(const std::string& op, const std::string& payload, std::chrono::milliseconds timeout) {
  auto answer = transport_->request(wire::op_subject(op), payload, timeout);
  if (!answer) return reply::failed("", op, answer.err().code, answer.err().message);
  auto decoded = decode_reply(*answer);
  if (!decoded) return reply::failed("", op, error_code::internal, decoded.err().message);
  return *decoded;
}

request grey_request(int level, const std::string& id) {
  std::vector<std::uint8_t> png;
  cv::imencode(".png", cv::Mat(40, 40, CV_8UC3, cv::Scalar(level, level, level)), png);
  request r;
  r.id = id;
  r.image = shared_bytes::from_vector(std::move(png));
  r.deadline_ms = 30000;
  return r;
}

request image_request(const std::string& path, const std::string& id) {
  request r;
  r.id = id;
  r.image = shared_bytes::copy_of(read_file(path));
  return r;
}

}  // namespace infermesh::test

namespace infermesh::test {

reply_collector::reply_collector(nats_transport& transport, const std::string& subject) {
  auto sub = transport.subscribe(subject, "", [box = inbox_](incoming_message&& m) {
    std::lock_guard<std::mutex> g(box->mutex);
    box->payloads.emplace_back(m.payload.view());
    if (auto r = decode_reply(m.payload)) box->ids.insert(r->id);
    box->arrived.push_back(std::chrono::steady_clock::now());
    box->changed.notify_all();
  });
  if (!sub) throw std::runtime_error(sub.err().message);
  if (auto e = transport.flush(std::chrono::seconds(5))) throw std::runtime_error(e->message);
}

bool reply_collector::wait_for(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(inbox_->mutex);
  return inbox_->changed.wait_for(lock, timeout, [&] { return inbox_->payloads.size() >= n; });
}

bool reply_collector::wait_for_ids(std::size_t n, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(inbox_->mutex);
  return inbox_->changed.wait_for(lock, timeout, [&] { return inbox_->ids.size() >= n; });
}

std::vector<reply> reply_collector::replies() {
  std::lock_guard<std::mutex> g(inbox_->mutex);
  std::vector<reply> out;
  for (const auto& p : inbox_->payloads) {
    auto r = decode_reply(shared_bytes::copy_of(p));
    out.push_back(r ? *r : reply::failed("", "", error_code::internal, "undecodable reply"));
  }
  return out;
}

std::vector<std::chrono::steady_clock::time_point> reply_collector::arrival_times() {
  std::lock_guard<std::mutex> g(inbox_->mutex);
  return inbox_->arrived;
}

void progress::set(std::uint64_t value) {
  std::lock_guard<std::mutex> g(mutex_);
  value_ = std::max(value_, value);
  changed_.notify_all();
}

bool progress::wait_for(std::uint64_t at_least, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return value_ >= at_least; });
}

std::string code_of(const reply& r) {
  if (r.ok) return "ok";
  return r.failure ? std::string(to_string(r.failure->code)) : "(no error)";
}

std::string message_of(const reply& r) { return r.failure ? r.failure->message : ""; }

}  // namespace infermesh::test
