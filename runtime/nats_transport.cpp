#include "runtime/nats_transport.hpp"

#include <cstdint>
#include <limits>

#include "runtime/log.hpp"
#include "runtime/nats_connection_impl.hpp"

namespace infermesh {

namespace nats_detail {

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

}  // namespace nats_detail

using nats_detail::status_text;
using nats_detail::to_error;

namespace {

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
void on_async_error(natsConnection*, natsSubscription* sub, natsStatus err, void*) {
  if (err == NATS_SLOW_CONSUMER && sub != nullptr) {
    // nats.c reports each start of a slow-consumer episode; under a flood those come back to back. One line per
    // 10 s at most, process-wide: this callback gets no closure it could keep a throttle in (it may run after
    // the transport is gone), and a log throttle is all this static holds.
    static std::atomic<std::int64_t> last_logged_ms{std::numeric_limits<std::int64_t>::min() / 2};
    const std::int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now().time_since_epoch()).count();
    std::int64_t last = last_logged_ms.load();
    if (now_ms - last < 10000 || !last_logged_ms.compare_exchange_strong(last, now_ms)) return;
    std::int64_t dropped = 0;
    natsSubscription_GetDropped(sub, &dropped);
    int max_messages = 0, max_bytes = 0;
    natsSubscription_GetPendingLimits(sub, &max_messages, &max_bytes);
    const char* subject = natsSubscription_GetSubject(sub);
    log(log_level::warn, "nats: slow consumer on '", subject != nullptr ? subject : "?", "': ", dropped,
        " message(s) dropped so far, past its pending limit of ", max_messages, " messages or ", max_bytes,
        " bytes (nats.max_pending_messages, nats.max_pending_bytes)");
    return;
  }
  log(log_level::warn, "nats: asynchronous error: ", natsStatus_GetText(err));
}

}  // namespace

nats_transport::impl::~impl() {
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

void nats_transport::impl::deliver(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  std::shared_ptr<natsMsg> owner(msg, natsMsg_Destroy);
  const char* reply = natsMsg_GetReply(msg);
  incoming_message in{natsMsg_GetSubject(msg), reply != nullptr ? reply : "",
                      shared_bytes(owner, reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg)),
                                   static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
                      natsMsg_IsNoResponders(msg)};
  (*static_cast<handler*>(closure))(std::move(in));
}

nats_transport::nats_transport(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
nats_transport::~nats_transport() = default;

outcome<std::unique_ptr<nats_transport>> nats_transport::connect(const nats_options& o) {
  if (o.servers.empty()) return error{error_code::bad_request, "nats: no servers configured"};
  auto p = std::make_unique<impl>();
  natsStatus s = natsOptions_Create(&p->options);
  if (s != NATS_OK) return to_error(s, "nats: cannot create options");
  std::vector<const char*> urls;
  for (const auto& url : o.servers) urls.push_back(url.c_str());
  p->max_pending_messages = o.max_pending_messages;
  p->max_pending_bytes = o.max_pending_bytes;
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
      (s = natsOptions_SetIgnoreDiscoveredServers(opts, o.ignore_discovered_servers)) != NATS_OK ||
      (s = natsOptions_SetErrorHandler(opts, on_async_error, nullptr)) != NATS_OK)
    return to_error(s, "nats: invalid options");
  const auto& c = o.credentials;
  if (auto problem = c.problem()) return error{error_code::bad_request, "nats." + *problem};
  if (!c.user.empty()) s = natsOptions_SetUserInfo(opts, c.user.c_str(), c.password.c_str());
  if (s == NATS_OK && !c.token.empty()) s = natsOptions_SetToken(opts, c.token.c_str());
  if (s == NATS_OK && !c.nkey.empty()) s = natsOptions_SetNKeyFromSeed(opts, c.nkey.c_str(), c.nkey_seed_file.c_str());
  if (s == NATS_OK && !c.creds_file.empty()) s = natsOptions_SetUserCredentialsFromFiles(opts, c.creds_file.c_str(), nullptr);
  if (s == NATS_OK && c.tls) s = natsOptions_SetSecure(opts, true);
  if (s == NATS_OK && !c.tls_ca_file.empty()) s = natsOptions_LoadCATrustedCertificates(opts, c.tls_ca_file.c_str());
  if (s == NATS_OK && !c.tls_cert_file.empty())
    s = natsOptions_LoadCertificatesChain(opts, c.tls_cert_file.c_str(), c.tls_key_file.c_str());
  if (s == NATS_OK && !c.tls_server_name.empty()) s = natsOptions_SetExpectedHostname(opts, c.tls_server_name.c_str());
  if (s == NATS_OK && !c.inbox_prefix.empty()) s = natsOptions_SetCustomInboxPrefix(opts, c.inbox_prefix.c_str());
  transport->impl_->inbox_prefix = c.inboxes();
  if (s != NATS_OK) return to_error(s, "nats: credentials (" + c.describe() + ")");
  if (o.log_events) {
    natsOptions_SetDisconnectedCB(opts, on_disconnected, nullptr);
    natsOptions_SetReconnectedCB(opts, on_reconnected, nullptr);
  }
  s = natsConnection_Connect(&transport->impl_->connection, opts);
  if (s != NATS_OK) {
    std::string list;
    for (const auto& url : o.servers) list += (list.empty() ? "" : ", ") + without_credentials(url);
    return to_error(s, "nats: cannot connect to any of [" + list + "]" +
                           (s == NATS_CONNECTION_AUTH_FAILED ? " as " + c.describe() + ": authorization failed" : ""));
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
  if ((s = natsSubscription_SetPendingLimits(sub, impl_->max_pending_messages, impl_->max_pending_bytes)) != NATS_OK) {
    natsSubscription_Destroy(sub);
    return to_error(s, "nats: cannot set the pending limits of '" + subject + "' (nats.max_pending_messages " +
                           std::to_string(impl_->max_pending_messages) + ", nats.max_pending_bytes " +
                           std::to_string(impl_->max_pending_bytes) + ")");
  }
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
  natsInbox* inbox = nullptr;  // "_INBOX.<nuid>": the nuid goes under this client's prefix
  if (natsInbox_Create(&inbox) != NATS_OK) return impl_->inbox_prefix + ".infermesh";
  std::string out(inbox);
  natsInbox_Destroy(inbox);
  return impl_->inbox_prefix + out.substr(out.find('.'));
}

void nats_transport::close_library() { nats_CloseAndWait(2000); }

std::string nats_transport::connected_server() const {
  char buffer[512] = {0};
  if (natsConnection_GetConnectedUrl(impl_->connection, buffer, sizeof buffer) != NATS_OK) return "(none)";
  return without_credentials(buffer);
}

bool nats_transport::connected() const {
  return natsConnection_Status(impl_->connection) == NATS_CONN_STATUS_CONNECTED;
}

std::uint64_t nats_transport::dropped() const {
  std::lock_guard<std::mutex> guard(impl_->subscriptions_mutex);
  std::uint64_t total = 0;
  for (const auto& [sub, h] : impl_->subscriptions) {
    std::int64_t n = 0;
    if (natsSubscription_GetDropped(sub, &n) == NATS_OK && n > 0) total += static_cast<std::uint64_t>(n);
  }
  return total;
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
