#pragma once
/// The NATS seam: the only part of infermesh that talks to nats.c (only runtime/nats_*.cpp include it:
/// nats_transport.cpp the connection and core messaging, nats_jetstream.cpp the durable work queue).
/// Every natsStatus becomes an infermesh `error` with context here.
///
/// Thread-safety: `publish` and `request` may be called from any thread (nats.c connections are thread-safe).
/// Subscription handlers run on nats.c delivery threads: they must not block (hand work to an actor).

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "messages/outcome.hpp"
#include "messages/shared_bytes.hpp"
#include "messages/subjects.hpp"
#include "runtime/nats_credentials.hpp"

namespace infermesh {

struct nats_options {
  std::vector<std::string> servers{"nats://127.0.0.1:4222"};
  std::string client_name{wire::client_name};
  int max_reconnect = 60;                                   ///< attempts per outage; -1 = forever
  std::chrono::milliseconds reconnect_wait{250};
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds ping_interval{2000};            ///< hung-server detection: interval x max_pings_out
  int max_pings_out = 2;
  bool log_events = true;                                   ///< log disconnects and reconnects
  /// Use only `servers`, not the addresses the cluster announces (behind a proxy or a NAT those are not the way).
  bool ignore_discovered_servers = false;
  /// Per subscription: messages (and their bytes) nats.c holds for its handler; past either, new messages are
  /// dropped (a "slow consumer", logged and counted in `dropped`). nats.c's defaults (65536 and 64 MiB): the
  /// bytes bound the memory; the count only matters for tiny messages, whose bursts it must absorb.
  int max_pending_messages = 65536;
  int max_pending_bytes = 64 << 20;
  /// Who this client is (user/password, token, NKey, creds) and TLS; anonymous and plain by default.
  nats_credentials credentials;
};

/// A message delivered to a subscription. `payload` shares the nats.c message: no copy.
struct incoming_message {
  std::string subject;
  std::string reply;
  shared_bytes payload;
  bool no_responders = false;  ///< the server's "no one subscribes to the subject you asked" status
};

/// A request taken from a JetStream work queue (durable delivery): answered, then acknowledged with `ack`, or
/// redelivered to another node after the consumer's ack wait. `delivered` counts deliveries (1 = first).
struct durable_message {
  shared_bytes payload;
  std::uint64_t delivered = 1;
  std::function<void()> ack;
  std::function<void()> nak;  ///< "not now": redelivered (to any node) after a short delay
};

/// The work queue of durable delivery (protocol.md, "Durable requests").
struct work_queue_options {
  std::string stream{wire::work_queue_stream};
  /// The subjects the stream captures, of the form `<prefix>.>`; op `o`'s requests are published to and pulled
  /// from `<prefix>.o` (`op_subject`).
  std::string subjects{wire::work_queue_subjects};
  int replicas = 1;
  std::chrono::milliseconds ack_wait{5000};
  /// Requests of one op a node holds at a time (pulled, not yet acknowledged or handed back): it pulls only
  /// what it can work on, so the rest waits in the stream for any node instead of being handed back.
  int max_in_flight = 64;

  /// The subject of `op`'s requests: `subjects` with its `>` replaced by `op` (the default gives
  /// `wire::durable_subject(op)`); nullopt unless `subjects` has the form `<prefix>.>`.
  std::optional<std::string> op_subject(const std::string& op) const;
};

class nats_transport {
 public:
  using handler = std::function<void(incoming_message&&)>;
  using durable_handler = std::function<void(durable_message&&)>;

  /// Connects to the first reachable server of `options.servers`. Errors are `unavailable` with the reason.
  static outcome<std::unique_ptr<nats_transport>> connect(const nats_options& options);
  ~nats_transport();
  nats_transport(const nats_transport&) = delete;
  nats_transport& operator=(const nats_transport&) = delete;

  /// Subscribes `subject` in queue group `group` (empty: plain subscription); returns a subscription id.
  outcome<int> subscribe(const std::string& subject, const std::string& group, handler on_message);
  /// Ends subscription `id` without waiting: no new messages; those already received still reach the handler.
  void unsubscribe(int id);
  /// Stops delivery of new messages on the subscriptions `ids` and waits (up to `timeout`) until the messages
  /// already received have been handed to their handlers.
  void drain_subscriptions(const std::vector<int>& ids, std::chrono::milliseconds timeout);

  /// Publishes `payload` to `subject` (with `reply` as its reply subject when not empty); errors are
  /// `too_large` (over the server's max_payload) or `unavailable`.
  std::optional<error> publish(const std::string& subject, std::string_view payload, const std::string& reply = "");
  /// Request-reply: `unavailable` when no one serves `subject`, `deadline_exceeded` on timeout.
  outcome<shared_bytes> request(const std::string& subject, std::string_view payload,
                                std::chrono::milliseconds timeout);
  /// Pushes buffered publishes to the server and waits for its acknowledgement.
  std::optional<error> flush(std::chrono::milliseconds timeout);

  /// The server's maximum payload in bytes.
  std::size_t max_payload() const;
  /// Creates the work-queue stream if it is missing (nodes and durable clients both call it). `bad_request`
  /// naming `subjects` when it does not have the form `<prefix>.>`.
  std::optional<error> ensure_work_queue(const work_queue_options& options);
  /// Pulls `op`'s requests (subject `options.op_subject(op)`) from the durable consumer `infermesh-<op>`
  /// (`wire::durable_consumer`; created if missing: explicit acks,
  /// `ack_wait`) on a thread of its own, handing each to `on_message`, until `stop_pulling`. At most
  /// `max_in_flight` are held at once: a request counts until the last copy of its message is gone.
  std::optional<error> pull(const std::string& op, const work_queue_options& options, durable_handler on_message);
  /// Stops (true) or resumes (false) pulling `op`'s requests: a node whose model for it is unhealthy leaves
  /// them in the stream for other nodes (health_gate).
  void pause_pulling(const std::string& op, bool paused);
  /// Durable `op` requests this node holds now: pulled, and not yet acknowledged or handed back (0 when it
  /// does not pull `op`). Any thread.
  std::uint64_t held(const std::string& op) const;
  /// Stops every pull thread (unacknowledged requests are redelivered elsewhere after the ack wait).
  void stop_pulling();
  /// Publishes `payload` to a JetStream subject with `Nats-Msg-Id: msg_id` and waits for the stream's ack,
  /// trying again (100 ms apart; each attempt waits at most 1 s for its ack) until `timeout` while the stream
  /// refuses or does not answer it (a leader election after a server died); the message id makes a repeat that
  /// did land harmless.
  std::optional<error> publish_durable(const std::string& subject, std::string_view payload, const std::string& msg_id,
                                       std::chrono::milliseconds timeout);

  /// A subject no other connection uses, for replies to this one (`_INBOX.<unique>`).
  std::string new_inbox() const;
  /// The URL currently connected to, without credentials.
  std::string connected_server() const;
  /// Whether the connection is up now (not reconnecting, not closed). Any thread.
  bool connected() const;
  /// Messages nats.c dropped so far on this connection's core subscriptions because their handler's pending
  /// limits were reached (slow consumer). Any thread.
  std::uint64_t dropped() const;
  /// How many times the connection was lost and re-established (to any server of the list) so far: messages
  /// sent to this connection in between were lost.
  std::uint64_t reconnects() const;

  /// Releases nats.c's process-wide resources; call once at exit, after every transport is destroyed.
  static void close_library();

  struct impl;  ///< opaque: nats.c stays inside runtime/nats_*.cpp (runtime/nats_connection_impl.hpp)

 private:
  explicit nats_transport(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace infermesh
