// Every queue is bounded (issue 14 §2): junk without reply subjects is dropped before it is decoded, a flood of
// one in-flight id is answered (the repeats past the bound `overloaded`), a backlog of undecoded requests is
// shed at the door — and meanwhile a valid request is answered within its deadline and the node's memory stays
// bounded (its VmHWM, read from /proc).
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <thread>

#include "messages/codec.hpp"
#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// The flood: 100 payloads of (nearly) 8 MB — nats-server's max_payload here — in a burst.
constexpr int junk_messages = 100;
constexpr std::size_t junk_bytes = (8u << 20) - 4096;
/// What the node may add to its resident memory during a flood: nats.c holds at most 64 MiB per subscription
/// (nats.max_pending_bytes) and the node a bounded backlog; before the bounds, the junk peaked at ~1.5 GB.
constexpr long rss_growth_budget_kb = 400 * 1024;
/// The valid request's deadline, as in the issue; it must be answered within it.
constexpr std::int64_t deadline_ms = 10000;

/// A field of /proc/<pid>/status in kB (VmHWM: peak resident set, VmRSS: now).
long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  BOOST_FAIL("no " << field << " for process " << pid);
  return -1;
}

/// An 8 MB JSON request whose `image` is base64 of noise: every decoder path pays for it in full (scan, parse,
/// base64 decode of 6 MB) before it could find it is no image — unless it is never decoded.
std::string junk() {
  std::string out = "{\"image\": \"";
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  while (out.size() + 4 + 16 < junk_bytes) out += alphabet[(out.size() * 2654435761u >> 7) % 64];
  while ((out.size() - 10) % 4 != 0) out += 'A';
  return out + "\"}";
}

/// A client connection whose subscriptions may hold many replies (a flood's answers arrive faster than a test
/// thread decodes them, and a dropped one would look like a request left unanswered).
std::unique_ptr<nats_transport> roomy_client(const std::string& url) {
  nats_options o;
  o.servers = {url};
  o.log_events = false;
  o.max_pending_messages = 1'000'000;
  o.max_pending_bytes = 1 << 30;
  auto t = nats_transport::connect(o);
  BOOST_REQUIRE_MESSAGE(t, (t ? "" : t.err().message));
  return std::move(*t);
}

/// Sends a valid request as a client following the protocol would: retried (same id) after `overloaded`, the
/// protocol's "retry elsewhere or later", 100 ms apart. Requires an ok answer within `deadline_ms` of the first
/// attempt.
void answered_within_deadline(test::client& client, const std::string& id) {
  auto req = test::grey_request(90, id);
  req.deadline_ms = deadline_ms;
  const auto start = std::chrono::steady_clock::now();
  const auto until = start + std::chrono::milliseconds(deadline_ms);
  reply rep;
  int attempts = 0;
  for (;;) {
    ++attempts;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - std::chrono::steady_clock::now());
    rep = client.send("classify", req, encoding::msgpack, std::max(left, std::chrono::milliseconds(1)) + 5s);
    if (test::code_of(rep) != "overloaded" || std::chrono::steady_clock::now() + 100ms >= until) break;
    std::this_thread::sleep_for(100ms);
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
  BOOST_TEST(rep.ok, test::code_of(rep) << ": " << test::message_of(rep) << " (attempt " << attempts << ")");
  BOOST_TEST(took.count() < deadline_ms, "answered after " << took.count() << " ms");
  BOOST_TEST_MESSAGE("valid request '" << id << "' answered in " << took.count() << " ms, attempt " << attempts);
}

std::map<std::string, int> codes_of(const std::vector<reply>& replies) {
  std::map<std::string, int> out;
  for (const auto& r : replies) ++out[test::code_of(r)];
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(bounded_queues)

BOOST_AUTO_TEST_CASE(junk_without_reply_subjects_is_dropped_unread_and_the_next_request_is_answered_in_time) {
  test::nats_server nats;
  test::node_process node{test::synthetic_config(1000, ""), nats.url()};
  test::client client{nats.url()};
  answered_within_deadline(client, "warm-up");
  const long before_kb = status_kb(node.process().pid(), "VmRSS");
  const auto payload = junk();
  for (int i = 0; i < junk_messages; ++i)
    BOOST_REQUIRE(!client.transport().publish(wire::op_subject("classify"), payload));  // no reply subject
  BOOST_REQUIRE(!client.transport().flush(30s));
  answered_within_deadline(client, "after-the-junk");
  const long peak_kb = status_kb(node.process().pid(), "VmHWM");
  BOOST_TEST_MESSAGE("node VmRSS before the junk " << before_kb << " kB, VmHWM after " << peak_kb << " kB");
  BOOST_TEST(peak_kb - before_kb < rss_growth_budget_kb, "the node grew by " << (peak_kb - before_kb) << " kB");
  // Dropped at the door and logged, rate-limited: far fewer lines than messages.
  BOOST_TEST(node.process().wait_for_line("without a reply subject", 5s));
  const auto log = node.process().output();
  std::size_t lines = 0;
  for (auto at = log.find("without a reply subject"); at != std::string::npos; at = log.find("without a reply subject", at + 1))
    ++lines;
  BOOST_TEST(lines < static_cast<std::size_t>(junk_messages) / 10, lines << " log lines for " << junk_messages << " messages");
}

BOOST_AUTO_TEST_CASE(a_flood_of_one_in_flight_id_is_answered_with_the_repeats_past_the_bound_overloaded) {
  constexpr int copies = 100000;         // of one request, while its first is in flight: the flood
  constexpr int batch_latency_us = 3'000'000;  // keeps the first in flight while the copies arrive
  constexpr int max_waiters = 32;        // node.max_waiters_per_id's default
  test::nats_server nats;
  test::node_process node{test::synthetic_config(batch_latency_us, ""), nats.url()};
  auto flooder = roomy_client(nats.url());
  test::client client{nats.url()};
  const long before_kb = status_kb(node.process().pid(), "VmRSS");
  const std::string inbox = flooder->new_inbox();
  test::reply_collector answers(*flooder, inbox);
  const auto payload = encode_request(test::grey_request(60, "hot-id"), encoding::msgpack);
  for (int i = 0; i < copies; ++i)
    BOOST_REQUIRE(!flooder->publish(wire::op_subject("classify"), payload, inbox));
  BOOST_REQUIRE(!flooder->flush(30s));
  answered_within_deadline(client, "another-id");
  if (!answers.wait_for(copies, 60s)) {
    const auto log = node.process().output();
    BOOST_FAIL("every copy is answered: " << answers.replies().size() << " of " << copies << "; node log:\n"
                                          << log.substr(log.size() > 3000 ? log.size() - 3000 : 0));
  }
  const auto replies = answers.replies();
  const auto codes = codes_of(replies);
  std::string summary;
  for (const auto& [code, n] : codes) summary += code + " " + std::to_string(n) + " ";
  BOOST_TEST_MESSAGE(copies << " copies of one id: " << summary);
  BOOST_TEST(replies.size() == static_cast<std::size_t>(copies), "exactly one answer per copy");
  BOOST_TEST(codes.count("ok") == 1u);
  BOOST_TEST(codes.at("ok") >= 1);
  BOOST_TEST(codes.at("ok") <= 1 + max_waiters, "only the first and the repeats held for it get its answer");
  BOOST_TEST(codes.at("ok") + (codes.count("overloaded") ? codes.at("overloaded") : 0) == copies,
             "the rest are overloaded: " << summary);
  bool named = false;
  for (const auto& r : replies)
    if (test::code_of(r) == "overloaded" && test::message_of(r).find("node.max_waiters_per_id") != std::string::npos)
      named = true;
  BOOST_TEST(named, "a repeat past the bound is told why (node.max_waiters_per_id)");
  const long peak_kb = status_kb(node.process().pid(), "VmHWM");
  BOOST_TEST_MESSAGE("node VmRSS before the flood " << before_kb << " kB, VmHWM after " << peak_kb << " kB");
  BOOST_TEST(peak_kb - before_kb < rss_growth_budget_kb, "the node grew by " << (peak_kb - before_kb) << " kB");
}

BOOST_AUTO_TEST_CASE(requests_past_the_undecoded_backlog_are_answered_overloaded_at_the_door_without_an_id) {
  constexpr int requests = 200;
  constexpr std::size_t padding = 1u << 20;  // an unknown 1 MB field: JSON the router needs milliseconds to read
  test::nats_server nats;
  test::node_process node{test::synthetic_config(1000, "", "  max_backlog_requests: 1\n  max_backlog_bytes: 1048576\n"),
                          nats.url()};
  auto flooder = roomy_client(nats.url());
  test::client client{nats.url()};
  const std::string inbox = flooder->new_inbox();
  test::reply_collector answers(*flooder, inbox);
  std::string json = encode_request(test::grey_request(30, ""), encoding::json);
  json.insert(1, "\"pad\": \"" + std::string(padding, 'x') + "\", ");
  for (int i = 0; i < requests; ++i) BOOST_REQUIRE(!flooder->publish(wire::op_subject("classify"), json, inbox));
  BOOST_REQUIRE(!flooder->flush(30s));
  BOOST_REQUIRE_MESSAGE(answers.wait_for(requests, 60s), "every request is answered, shed or not");
  const auto replies = answers.replies();
  const auto codes = codes_of(replies);
  BOOST_TEST(replies.size() == static_cast<std::size_t>(requests));
  BOOST_TEST_MESSAGE(requests << " x 1 MB JSON, backlog bound 1: " << (codes.count("ok") ? codes.at("ok") : 0)
                              << " ok, " << (codes.count("overloaded") ? codes.at("overloaded") : 0) << " shed");
  BOOST_REQUIRE(codes.count("overloaded") == 1u);
  for (const auto& r : replies) {
    if (test::code_of(r) != "overloaded") continue;
    BOOST_TEST(r.id.empty(), "shed undecoded: no id");
    BOOST_TEST(r.op == "classify");
    BOOST_TEST(r.node == "node-t");
    BOOST_TEST(test::message_of(r).find("node.max_backlog_requests") != std::string::npos, test::message_of(r));
  }
  answered_within_deadline(client, "after-the-burst");
}

BOOST_AUTO_TEST_SUITE_END()
