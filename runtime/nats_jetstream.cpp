// The JetStream part of the NATS seam: the durable work queue (stream, pull consumers, pull threads, durable
// publishes). The connection itself is nats_transport.cpp's; both share runtime/nats_connection_impl.hpp.
#include "runtime/nats_transport.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "runtime/nats_connection_impl.hpp"

namespace infermesh {

using nats_detail::to_error;

namespace {

/// nats-server's JSConsumerAlreadyExists ("consumer already exists", 2.9+): nats.c 3.4.1's status.h has no
/// name for it.
constexpr jsErrCode js_consumer_already_exists = static_cast<jsErrCode>(10148);

error js_error(natsStatus s, jsErrCode code, const std::string& what) {
  auto e = to_error(s, what);
  if (code != 0) e.message += " (JetStream error " + std::to_string(code) + ")";
  return e;
}

/// Makes the connection's JetStream context once. Under the lock: `infermesh load --durable` publishes from
/// several threads at once, and two first uses made two contexts (one leaked; found by LSan in CI).
std::optional<error> ensure_js(nats_transport::impl& p) {
  std::lock_guard<std::mutex> guard(p.js_mutex);
  if (p.js != nullptr) return std::nullopt;
  if (natsStatus s = natsConnection_JetStream(&p.js, p.connection, nullptr); s != NATS_OK)
    return to_error(s, "nats: no JetStream context");
  return std::nullopt;
}

std::optional<error> check_subjects(const work_queue_options& o) {
  if (o.op_subject("op")) return std::nullopt;
  return error{error_code::bad_request,
               "work_queue_options.subjects: must have the form '<prefix>.>' (one subject per op), got '" + o.subjects + "'"};
}

}  // namespace

std::optional<std::string> work_queue_options::op_subject(const std::string& op) const {
  // `<prefix>.>` with no other wildcard: `>` (only last) stands for the op.
  if (subjects.size() < 3 || subjects.compare(subjects.size() - 2, 2, ".>") != 0 ||
      subjects.find_first_of("*>") != subjects.size() - 1)
    return std::nullopt;
  return subjects.substr(0, subjects.size() - 1) + op;
}

void nats_transport::impl::stop_pullers() {
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
    if (code == JSStreamNameExistErr) return std::nullopt;  // created meanwhile by another node: fine
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
      if (s == NATS_OK || code == js_consumer_already_exists || code == JSConsumerNameExistErr) break;  // (or created meanwhile by another node)
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
  auto state = std::make_shared<nats_detail::puller_state>(op, std::max(1, o.max_in_flight));
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

std::uint64_t nats_transport::held(const std::string& op) const {
  std::lock_guard<std::mutex> guard(impl_->puller_states_mutex);
  std::uint64_t out = 0;
  for (const auto& state : impl_->puller_states)
    if (state->op == op) {
      std::lock_guard<std::mutex> guard(state->mutex);
      out += static_cast<std::uint64_t>(std::max(0, state->capacity - state->credits));
    }
  return out;
}

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

}  // namespace infermesh
