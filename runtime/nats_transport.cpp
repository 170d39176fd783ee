#include "runtime/nats_transport.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "runtime/log.hpp"

namespace infermesh {
namespace {

std::string status_text(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  natsStatus last = NATS_OK;
  if (const char* detail = nats_GetLastError(&last); detail != nullptr && *detail != '\0' && last == s)
    text += std::string(" (") + detail + ")";
  return text;
}

error to_error(natsStatus s, const std::string& context) {
  error_code code = error_code::unavailable;
  if (s == NATS_MAX_PAYLOAD) code = error_code::too_large;
  else if (s == NATS_TIMEOUT) code = error_code::deadline_exceeded;
  else if (s == NATS_INVALID_ARG || s == NATS_INVALID_SUBJECT) code = error_code::bad_request;
  return {code, context + ": " + status_text(s)};
}

/// "nats://user:secret@host:4222" -> "nats://host:4222": never log credentials.
std::string without_credentials(std::string url) {
  const auto scheme = url.find("://");
  const auto at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (at != std::string::npos) url.erase(scheme == std::string::npos ? 0 : scheme + 3, at + 1 - (scheme + 3));
  return url;
}

// Connection callbacks take no closure: nats.c runs them on its own thread, possibly after the transport that
// set them is gone (natsConnection_Destroy does not wait for them); the connection itself is kept alive for them.
void on_disconnected(natsConnection* nc, void*) {
  // An intentional close (the connection is closed by now) is not a disconnect worth a warning.
  if (!natsConnection_IsClosed(nc)) log(log_level::warn, "nats: disconnected, reconnecting");
}
void on_reconnected(natsConnection* nc, void*) {
  char url[512] = {0};
  natsConnection_GetConnectedUrl(nc, url, sizeof url);
  log(log_level::info, "nats: reconnected to ", without_credentials(url));
}
void on_async_error(natsConnection*, natsSubscription*, natsStatus err, void*) {
  log(log_level::warn, "nats: asynchronous error: ", natsStatus_GetText(err));
}

/// One op's pull thread: what it may take (credits) and whether it takes anything (paused).
struct puller_state {
  explicit puller_state(std::string o, int credits) : op(std::move(o)), credits(credits) {}
  const std::string op;
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

}  // namespace

struct nats_transport::impl {
  natsOptions* options = nullptr;
  natsConnection* connection = nullptr;
  std::mutex subscriptions_mutex;
  std::vector<std::pair<natsSubscription*, std::unique_ptr<handler>>> subscriptions;
  jsCtx* js = nullptr;
  std::atomic<bool> pulling{true};
  std::vector<std::thread> pullers;
  std::mutex puller_states_mutex;  // pull() at start-up vs pause_pulling() from the health gate
  std::vector<std::shared_ptr<puller_state>> puller_states;
  // Pull subscriptions live as long as the connection: a request taken from one is acknowledged through it,
  // possibly after pulling stopped (a node drains what it holds).
  std::vector<natsSubscription*> pull_subscriptions;

  ~impl() {
    stop_pullers();
    for (auto* sub : pull_subscriptions) natsSubscription_Destroy(sub);
    if (js != nullptr) jsCtx_Destroy(js);
    // A handler must not run once it is freed (below, with this object), and nats.c's Destroy does not wait
    // for a running one: drain every subscription (those drained already end at once) and wait, bounded, until
    // the messages they hold were handled.
    for (auto& [sub, h] : subscriptions) natsSubscription_Drain(sub);  // already draining or closed: ignored
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (auto& [sub, h] : subscriptions) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
      natsSubscription_WaitForDrainCompletion(sub, std::max<std::int64_t>(1, left.count()));
    }
    for (auto& [sub, h] : subscriptions) natsSubscription_Destroy(sub);
    if (connection != nullptr) {
      natsConnection_Close(connection);
      natsConnection_Destroy(connection);
    }
    if (options != nullptr) natsOptions_Destroy(options);
  }

  void stop_pullers() {
    pulling = false;
    std::lock_guard<std::mutex> guard(puller_states_mutex);
    for (auto& state : puller_states) {
      std::lock_guard<std::mutex> guard(state->mutex);
      state->stopped = true;
      state->changed.notify_all();
    }
    for (auto& t : pullers)
      if (t.joinable()) t.join();
  }

  static void deliver(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
    std::shared_ptr<natsMsg> owner(msg, natsMsg_Destroy);
    const char* reply = natsMsg_GetReply(msg);
    incoming_message in{natsMsg_GetSubject(msg), reply != nullptr ? reply : "",
                        shared_bytes(owner, reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg)),
                                     static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
                        natsMsg_IsNoResponders(msg)};
    (*static_cast<handler*>(closure))(std::move(in));
  }
};

nats_transport::nats_transport(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
nats_transport::~nats_transport() = default;

outcome<std::unique_ptr<nats_transport>> nats_transport::connect(const nats_options& o) {
  if (o.servers.empty()) return error{error_code::bad_request, "nats: no servers configured"};
  auto p = std::make_unique<impl>();
  natsStatus s = natsOptions_Create(&p->options);
  if (s != NATS_OK) return to_error(s, "nats: cannot create options");
  std::vector<const char*> urls;
  for (const auto& url : o.servers) urls.push_back(url.c_str());
  auto transport = std::unique_ptr<nats_transport>(new nats_transport(std::move(p)));
  natsOptions* opts = transport->impl_->options;
  if ((s = natsOptions_SetServers(opts, urls.data(), static_cast<int>(urls.size()))) != NATS_OK ||
      (s = natsOptions_SetName(opts, o.client_name.c_str())) != NATS_OK ||
      (s = natsOptions_SetMaxReconnect(opts, o.max_reconnect)) != NATS_OK ||
      (s = natsOptions_SetReconnectWait(opts, o.reconnect_wait.count())) != NATS_OK ||
      (s = natsOptions_SetTimeout(opts, o.connect_timeout.count())) != NATS_OK ||
      (s = natsOptions_SetPingInterval(opts, o.ping_interval.count())) != NATS_OK ||
      (s = natsOptions_SetMaxPingsOut(opts, o.max_pings_out)) != NATS_OK ||
      // Without SendAsap nats.c buffers publishes and every reply waits ~1 ms for the flusher.
      (s = natsOptions_SetSendAsap(opts, true)) != NATS_OK ||
      (s = natsOptions_SetErrorHandler(opts, on_async_error, nullptr)) != NATS_OK)
    return to_error(s, "nats: invalid options");
  if (o.log_events) {
    natsOptions_SetDisconnectedCB(opts, on_disconnected, nullptr);
    natsOptions_SetReconnectedCB(opts, on_reconnected, nullptr);
  }
  s = natsConnection_Connect(&transport->impl_->connection, opts);
  if (s != NATS_OK) {
    std::string list;
    for (const auto& url : o.servers) list += (list.empty() ? "" : ", ") + without_credentials(url);
    return to_error(s, "nats: cannot connect to any of [" + list + "]");
  }
  return transport;
}

outcome<int> nats_transport::subscribe(const std::string& subject, const std::string& group, handler on_message) {
  std::lock_guard<std::mutex> guard(impl_->subscriptions_mutex);
  auto h = std::make_unique<handler>(std::move(on_message));
  natsSubscription* sub = nullptr;
  natsStatus s = group.empty()
                     ? natsConnection_Subscribe(&sub, impl_->connection, subject.c_str(), impl::deliver, h.get())
                     : natsConnection_QueueSubscribe(&sub, impl_->connection, subject.c_str(), group.c_str(),
                                                     impl::deliver, h.get());
  if (s != NATS_OK) return to_error(s, "nats: cannot subscribe to '" + subject + "'");
  impl_->subscriptions.emplace_back(sub, std::move(h));
  return static_cast<int>(impl_->subscriptions.size() - 1);
}

void nats_transport::unsubscribe(int id) {
  std::lock_guard<std::mutex> guard(impl_->subscriptions_mutex);
  auto* sub = impl_->subscriptions.at(static_cast<std::size_t>(id)).first;
  if (natsStatus s = natsSubscription_Drain(sub); s != NATS_OK)
    log(log_level::warn, "nats: unsubscribe failed: ", status_text(s));
}

void nats_transport::drain_subscriptions(const std::vector<int>& ids, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> guard(impl_->subscriptions_mutex);
  for (int id : ids) natsSubscription_Drain(impl_->subscriptions.at(static_cast<std::size_t>(id)).first);
  for (int id : ids) {
    natsStatus s = natsSubscription_WaitForDrainCompletion(impl_->subscriptions.at(static_cast<std::size_t>(id)).first,
                                                           timeout.count());
    if (s != NATS_OK) log(log_level::warn, "nats: drain of a subscription did not complete: ", status_text(s));
  }
}

std::optional<error> nats_transport::publish(const std::string& subject, std::string_view payload,
                                             const std::string& reply) {
  natsStatus s = reply.empty() ? natsConnection_Publish(impl_->connection, subject.c_str(), payload.data(),
                                                        static_cast<int>(payload.size()))
                               : natsConnection_PublishRequest(impl_->connection, subject.c_str(), reply.c_str(),
                                                               payload.data(), static_cast<int>(payload.size()));
  if (s != NATS_OK) return to_error(s, "nats: cannot publish to '" + subject + "'");
  return std::nullopt;
}

outcome<shared_bytes> nats_transport::request(const std::string& subject, std::string_view payload,
                                              std::chrono::milliseconds timeout) {
  natsMsg* reply = nullptr;
  natsStatus s = natsConnection_Request(&reply, impl_->connection, subject.c_str(), payload.data(),
                                        static_cast<int>(payload.size()), timeout.count());
  if (s == NATS_NO_RESPONDERS) return error{error_code::unavailable, "no node serves '" + subject + "'"};
  if (s != NATS_OK) return to_error(s, "nats: request to '" + subject + "' failed");
  std::shared_ptr<natsMsg> owner(reply, natsMsg_Destroy);
  return shared_bytes(owner, reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(reply)),
                      static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
}

std::optional<error> nats_transport::flush(std::chrono::milliseconds timeout) {
  natsStatus s = natsConnection_FlushTimeout(impl_->connection, timeout.count());
  if (s != NATS_OK) return to_error(s, "nats: flush failed");
  return std::nullopt;
}

std::size_t nats_transport::max_payload() const {
  return static_cast<std::size_t>(natsConnection_GetMaxPayload(impl_->connection));
}

std::string nats_transport::new_inbox() const {
  natsInbox* inbox = nullptr;
  if (natsInbox_Create(&inbox) != NATS_OK) return "_INBOX.infermesh";
  std::string out(inbox);
  natsInbox_Destroy(inbox);
  return out;
}

static error js_error(natsStatus s, jsErrCode code, const std::string& what) {
  auto e = to_error(s, what);
  if (code != 0) e.message += " (JetStream error " + std::to_string(code) + ")";
  return e;
}

static std::optional<error> ensure_js(nats_transport::impl& p) {
  if (p.js != nullptr) return std::nullopt;
  if (natsStatus s = natsConnection_JetStream(&p.js, p.connection, nullptr); s != NATS_OK)
    return to_error(s, "nats: no JetStream context");
  return std::nullopt;
}

std::optional<std::string> work_queue_options::op_subject(const std::string& op) const {
  // `<prefix>.>` with no other wildcard: `>` (only last) stands for the op.
  if (subjects.size() < 3 || subjects.compare(subjects.size() - 2, 2, ".>") != 0 ||
      subjects.find_first_of("*>") != subjects.size() - 1)
    return std::nullopt;
  return subjects.substr(0, subjects.size() - 1) + op;
}

static std::optional<error> check_subjects(const work_queue_options& o) {
  if (o.op_subject("op")) return std::nullopt;
  return error{error_code::bad_request,
               "work_queue_options.subjects: must have the form '<prefix>.>' (one subject per op), got '" + o.subjects + "'"};
}

std::optional<error> nats_transport::ensure_work_queue(const work_queue_options& o) {
  if (auto e = check_subjects(o)) return e;
  if (auto e = ensure_js(*impl_)) return e;
  jsErrCode code = static_cast<jsErrCode>(0);
  jsStreamInfo* info = nullptr;
  if (js_GetStreamInfo(&info, impl_->js, o.stream.c_str(), nullptr, &code) == NATS_OK) {
    jsStreamInfo_Destroy(info);
    return std::nullopt;
  }
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = o.stream.c_str();
  const char* subjects[] = {o.subjects.c_str()};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Retention = js_WorkQueuePolicy;
  cfg.Storage = js_FileStorage;
  cfg.Replicas = o.replicas;
  // A JetStream cluster that is still electing its leaders answers "no responders" or "no suitable peers"
  // for a few seconds after it starts: keep asking for a while.
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (;;) {
    code = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&info, impl_->js, &cfg, nullptr, &code);
    if (s == NATS_OK) {
      jsStreamInfo_Destroy(info);
      return std::nullopt;
    }
    if (code == 10058) return std::nullopt;  // created meanwhile by another node: fine
    if (std::chrono::steady_clock::now() >= until)
      return js_error(s, code, "nats: cannot create stream '" + o.stream + "' (is JetStream on? nats-server -js)");
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

std::optional<error> nats_transport::pull(const std::string& op, const work_queue_options& o, durable_handler on_message) {
  if (auto e = check_subjects(o)) return e;
  if (auto e = ensure_js(*impl_)) return e;
  const std::string durable = wire::durable_consumer(op);
  const std::string subject = *o.op_subject(op);
  jsErrCode code = static_cast<jsErrCode>(0);
  jsConsumerInfo* info = nullptr;
  if (js_GetConsumerInfo(&info, impl_->js, o.stream.c_str(), durable.c_str(), nullptr, &code) == NATS_OK) {
    jsConsumerInfo_Destroy(info);
  } else {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable.c_str();
    cc.FilterSubject = subject.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = std::chrono::duration_cast<std::chrono::nanoseconds>(o.ack_wait).count();
    cc.MaxAckPending = 1024;
    cc.Replicas = o.replicas;  // the consumer's delivery state survives a server as the stream does
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);  // leaders being elected
    for (;;) {
      code = static_cast<jsErrCode>(0);
      natsStatus s = js_AddConsumer(&info, impl_->js, o.stream.c_str(), &cc, nullptr, &code);
      if (s == NATS_OK) jsConsumerInfo_Destroy(info);
      if (s == NATS_OK || code == 10148 || code == 10013) break;  // (or created meanwhile by another node)
      if (std::chrono::steady_clock::now() >= until)
        return js_error(s, code, "nats: cannot create consumer '" + durable + "'");
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = o.stream.c_str();
  so.Consumer = durable.c_str();
  natsSubscription* sub = nullptr;
  code = static_cast<jsErrCode>(0);
  if (natsStatus s = js_PullSubscribe(&sub, impl_->js, subject.c_str(), durable.c_str(), nullptr, &so, &code); s != NATS_OK)
    return js_error(s, code, "nats: cannot pull from '" + durable + "'");
  auto state = std::make_shared<puller_state>(op, std::max(1, o.max_in_flight));
  {
    std::lock_guard<std::mutex> guard(impl_->puller_states_mutex);
    impl_->puller_states.push_back(state);
  }
  impl_->pullers.emplace_back([p = impl_.get(), sub, state, on_message = std::move(on_message)] {
    while (p->pulling) {
      const int wanted = state->wanted(32, std::chrono::milliseconds(250));
      if (wanted == 0) continue;
      natsMsgList list{nullptr, 0};
      jsErrCode err = static_cast<jsErrCode>(0);
      natsStatus s = natsSubscription_Fetch(&list, sub, wanted, 250, &err);
      if (s != NATS_OK) continue;  // NATS_TIMEOUT: nothing queued; reconnects: try again
      {
        std::lock_guard<std::mutex> guard(state->mutex);
        state->credits -= list.Count;
      }
      for (int i = 0; i < list.Count; ++i) {
        natsMsg* raw = list.Msgs[i];
        list.Msgs[i] = nullptr;  // ownership moves to `owner`; its credit comes back when the last copy goes
        std::shared_ptr<natsMsg> owner(raw, [state](natsMsg* m) {
          natsMsg_Destroy(m);
          state->release();
        });
        durable_message m;
        jsMsgMetaData* meta = nullptr;
        if (natsMsg_GetMetaData(&meta, raw) == NATS_OK) {
          m.delivered = meta->NumDelivered;
          jsMsgMetaData_Destroy(meta);
        }
        m.payload = shared_bytes(owner, reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(raw)),
                                 static_cast<std::size_t>(natsMsg_GetDataLength(raw)));
        m.ack = [owner] { natsMsg_Ack(owner.get(), nullptr); };
        m.nak = [owner] { natsMsg_NakWithDelay(owner.get(), 100, nullptr); };
        on_message(std::move(m));
      }
      natsMsgList_Destroy(&list);
    }
  });
  impl_->pull_subscriptions.push_back(sub);
  return std::nullopt;
}

void nats_transport::stop_pulling() { impl_->stop_pullers(); }

void nats_transport::pause_pulling(const std::string& op, bool paused) {
  std::lock_guard<std::mutex> guard(impl_->puller_states_mutex);
  for (auto& state : impl_->puller_states)
    if (state->op == op) {
      std::lock_guard<std::mutex> guard(state->mutex);
      state->paused = paused;
      state->changed.notify_all();
    }
}

std::optional<error> nats_transport::publish_durable(const std::string& subject, std::string_view payload,
                                                     const std::string& msg_id, std::chrono::milliseconds timeout) {
  if (auto e = ensure_js(*impl_)) return e;
  natsMsg* msg = nullptr;
  if (natsStatus s = natsMsg_Create(&msg, subject.c_str(), nullptr, payload.data(), static_cast<int>(payload.size()));
      s != NATS_OK)
    return to_error(s, "nats: cannot create a message");
  std::unique_ptr<natsMsg, void (*)(natsMsg*)> owned(msg, natsMsg_Destroy);
  natsMsgHeader_Set(msg, "Nats-Msg-Id", msg_id.c_str());
  // Until `timeout`, a refused or unanswered publish is tried again (100 ms apart): a stream whose leader died
  // answers "no responders", or nothing at all (a publish that reached the dead leader's route), until the
  // survivors elect another. Each attempt waits at most `attempt_wait` for its acknowledgement, so one lost
  // publish does not use up the whole timeout. Nats-Msg-Id makes a repeat that did land harmless.
  constexpr std::chrono::milliseconds attempt_wait{1000};
  const auto until = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    po.MaxWait = std::max<std::int64_t>(1, std::min(left, attempt_wait).count());
    jsPubAck* ack = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    natsStatus s = js_PublishMsg(&ack, impl_->js, msg, &po, &code);
    if (ack != nullptr) jsPubAck_Destroy(ack);
    if (s == NATS_OK) return std::nullopt;
    if (std::chrono::steady_clock::now() + std::chrono::milliseconds(100) >= until)
      return js_error(s, code, "nats: the work queue did not accept the request");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

void nats_transport::close_library() { nats_CloseAndWait(2000); }

std::string nats_transport::connected_server() const {
  char buffer[512] = {0};
  if (natsConnection_GetConnectedUrl(impl_->connection, buffer, sizeof buffer) != NATS_OK) return "(none)";
  return without_credentials(buffer);
}

std::uint64_t nats_transport::reconnects() const {
  natsStatistics* stats = nullptr;
  std::uint64_t in_msgs = 0, in_bytes = 0, out_msgs = 0, out_bytes = 0, count = 0;
  if (natsStatistics_Create(&stats) == NATS_OK && natsConnection_GetStats(impl_->connection, stats) == NATS_OK)
    natsStatistics_GetCounts(stats, &in_msgs, &in_bytes, &out_msgs, &out_bytes, &count);
  if (stats != nullptr) natsStatistics_Destroy(stats);
  return count;
}

}  // namespace infermesh
