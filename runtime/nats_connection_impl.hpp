#pragma once
/// Private to the NATS seam: the connection state `nats_transport` hides behind its pimpl, shared by the files
/// that implement it (nats_transport.cpp: connection, core publish/subscribe; nats_jetstream.cpp: the work
/// queue). Include it only from runtime/nats_*.cpp: it is the one header that pulls in <nats/nats.h>.

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/nats_transport.hpp"

namespace infermesh {

namespace nats_detail {

/// nats.c's text for `s`, with the library's last error detail when it belongs to `s`.
std::string status_text(natsStatus s);
/// `s` as an infermesh error (`too_large`, `deadline_exceeded`, `bad_request` or `unavailable`), `context` first.
error to_error(natsStatus s, const std::string& context);

/// One op's pull thread: what it may take (credits) and whether it takes anything (paused). Shared by the
/// pull thread, the messages it handed out (a credit comes back when the last copy goes) and pause_pulling.
struct puller_state {
  explicit puller_state(std::string o, int credits) : op(std::move(o)), capacity(credits), credits(credits) {}
  const std::string op;
  const int capacity;  ///< credits when nothing is held
  std::mutex mutex;
  std::condition_variable changed;
  int credits;
  bool paused = false;
  bool stopped = false;

  void release() {
    std::lock_guard<std::mutex> guard(mutex);
    ++credits;
    changed.notify_all();
  }
  /// How many to fetch now (0: nothing, look again later); waits up to `patience` for a credit.
  int wanted(int batch, std::chrono::milliseconds patience) {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait_for(lock, patience, [&] { return stopped || (!paused && credits > 0); });
    return stopped || paused ? 0 : std::min(batch, credits);
  }
};

}  // namespace nats_detail

struct nats_transport::impl {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  std::string inbox_prefix = "_INBOX";  ///< new_inbox()'s (nats.c's own requests use the same, set in options)
  int max_pending_messages = 0;  // every core subscription's nats.c pending limits (nats_options)
  int max_pending_bytes = 0;
  mutable std::mutex subscriptions_mutex;
  std::vector<std::pair<natsSubscription*, std::unique_ptr<handler>>> subscriptions;
  std::mutex js_mutex;  // the JetStream context is made on first use, which any client thread may be
  jsCtx* js = nullptr;
  std::atomic<bool> pulling{true};
  std::vector<std::thread> pullers;
  std::mutex puller_states_mutex;  // pull() at start-up vs pause_pulling() from the health gate
  std::vector<std::shared_ptr<nats_detail::puller_state>> puller_states;
  // Pull subscriptions live as long as the connection: a request taken from one is acknowledged through it,
  // possibly after pulling stopped (a node drains what it holds).
  std::vector<natsSubscription*> pull_subscriptions;

  /// Stops the pullers, then drains and destroys every subscription and the connection (nats_transport.cpp).
  ~impl();
  /// Stops and joins every pull thread (nats_jetstream.cpp).
  void stop_pullers();
  /// nats.c's message callback of core subscriptions: `closure` is the subscription's handler.
  static void deliver(natsConnection*, natsSubscription*, natsMsg* msg, void* closure);
};

}  // namespace infermesh
