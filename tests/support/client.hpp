#pragma once
/// A test client: a real NATS connection (through the runtime's transport) plus helpers to build requests.

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <vector>
#include <string>

#include "runtime/request_client.hpp"

namespace infermesh::test {

class client {
 public:
  explicit client(const std::string& nats_url);
  /// Sends `req` to `op` and waits for the reply (msgpack unless `enc` says otherwise).
  reply send(const std::string& op, const request& req, encoding enc = encoding::msgpack,
             std::chrono::milliseconds timeout = std::chrono::seconds(120));
  /// Sends raw payload bytes to `op`'s subject and decodes the reply.
  reply send_raw(const std::string& op, const std::string& payload,
                 std::chrono::milliseconds timeout = std::chrono::seconds(120));
  nats_transport& transport() { return *transport_; }

 private:
  std::unique_ptr<nats_transport> transport_;
};

/// A count that other threads raise and the test waits on (no sleeping): e.g. requests answered so far.
class progress {
 public:
  void set(std::uint64_t value);
  /// Waits until the count reaches `at_least`; false after `timeout`.
  bool wait_for(std::uint64_t at_least, std::chrono::milliseconds timeout);

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t value_ = 0;
};

/// "ok", or the reply's error code; and the error message ("" for ok): safe on any reply.
std::string code_of(const reply& r);
std::string message_of(const reply& r);

/// A request carrying the bytes of `path`.
request image_request(const std::string& path, const std::string& id = "");

/// A request carrying a 40 x 40 PNG of one grey `level` (0..255), with a 30 s deadline: a synthetic model's
/// input (a bright one is its poison input when `poison_mean_above` is set).
request grey_request(int level, const std::string& id);

}  // namespace infermesh::test

namespace infermesh::test {

/// Collects every message published to one subject (a plain subscription), for counting replies.
class reply_collector {
 public:
  reply_collector(nats_transport& transport, const std::string& subject);
  /// Waits until at least `n` messages arrived; false after `timeout`.
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout);
  /// Waits until replies for at least `n` distinct ids arrived (repeats of an id count once); false after
  /// `timeout`.
  bool wait_for_ids(std::size_t n, std::chrono::milliseconds timeout);
  /// Decoded replies received so far.
  std::vector<reply> replies();
  /// When each of them arrived (same order).
  std::vector<std::chrono::steady_clock::time_point> arrival_times();

 private:
  struct inbox {  // shared with the subscription's handler, which may outlive this collector
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> payloads;
    std::vector<std::chrono::steady_clock::time_point> arrived;
    std::set<std::string> ids;
  };
  std::shared_ptr<inbox> inbox_ = std::make_shared<inbox>();
};

}  // namespace infermesh::test
