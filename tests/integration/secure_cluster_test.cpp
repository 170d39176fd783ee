// cluster-config/local-3node-secure.yaml (ports moved to free ones, passwords generated for the run): the
// launcher puts cluster-config/nats-accounts.conf into every server it starts; nodes serve core and durable
// requests with only their own permissions; an anonymous client cannot connect; a client reads no other
// client's replies and cannot join the nodes' queue group; the control subject is the operator's alone.
#include <boost/test/unit_test.hpp>


#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "runtime/request_client.hpp"
#include "support/child_process.hpp"
#include "support/client.hpp"
#include "support/local_cluster_file.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const std::string source = std::string(INFERMESH_SOURCE_DIR);

/// A password nobody else knows, fresh for each run. nats-server reads `$NAME` as a config value, so it starts
/// with letters (a value like `5e3f...` would be taken for a number: nats-accounts.conf says so too).
std::string fresh_password() {
  std::ifstream random("/dev/urandom", std::ios::binary);
  std::string out = "pw";
  for (int i = 0; i < 16; ++i) {
    const auto byte = static_cast<unsigned char>(random.get());
    out += "0123456789abcdef"[byte >> 4];
    out += "0123456789abcdef"[byte & 15];
  }
  return out;
}

/// The environment nats-accounts.conf reads its passwords from, set for the launcher (and so its servers and
/// nodes), removed again at the end.
struct passwords {
  std::map<std::string, std::string> of{{"infermesh-node", fresh_password()}, {"client-a", fresh_password()},
                                        {"client-b", fresh_password()}, {"operator", fresh_password()}};
  passwords() {
    setenv("INFERMESH_NODE_PASSWORD", of["infermesh-node"].c_str(), 1);
    setenv("INFERMESH_CLIENT_A_PASSWORD", of["client-a"].c_str(), 1);
    setenv("INFERMESH_CLIENT_B_PASSWORD", of["client-b"].c_str(), 1);
    setenv("INFERMESH_OPERATOR_PASSWORD", of["operator"].c_str(), 1);
  }
  ~passwords() {
    for (const char* v : {"INFERMESH_NODE_PASSWORD", "INFERMESH_CLIENT_A_PASSWORD", "INFERMESH_CLIENT_B_PASSWORD",
                          "INFERMESH_OPERATOR_PASSWORD"})
      unsetenv(v);
  }
};

/// local-3node-secure.yaml with model commands on (node.control) on every node, so that the control subject is
/// subscribed and only the permissions keep clients off it.
struct secure_file : test::local_cluster_file {
  secure_file() : local_cluster_file("local-3node-secure") {
    std::ifstream in(file);
    std::stringstream s;
    s << in.rdbuf();
    std::string text = s.str();
    for (std::size_t at = 0; (at = text.find("node: {name: node-", at)) != std::string::npos; at += 6)
      text.insert(at + 7, "control: true, ");
    std::ofstream(file) << text;
  }
};

/// The launched cluster, once for the suite (a real three-node mesh takes most of a minute to load its models).
struct launched_secure : passwords, secure_file {
  test::launched_cluster_file launched{*this, "cluster-secure"};

  /// A connection to server `server` as `user`, its inboxes under `inboxes` (default: _INBOX.<user>, as the
  /// example permissions want; "-": nats.c's default _INBOX).
  std::unique_ptr<nats_transport> as(const std::string& user, int server = 0, std::string inboxes = "") {
    nats_options o;
    o.servers = {url(server)};
    o.max_reconnect = 0;
    o.log_events = false;
    o.credentials.user = user;
    o.credentials.password = of.at(user);
    if (inboxes != "-") o.credentials.inbox_prefix = inboxes.empty() ? "_INBOX." + user : inboxes;
    auto t = nats_transport::connect(o);
    if (!t) throw std::runtime_error("cannot connect as " + user + ": " + t.err().message);
    return std::move(*t);
  }
};

/// The suite's fixture: one launched cluster for every case, stopped at the end of the suite.
struct suite_cluster {
  static inline std::unique_ptr<launched_secure> mesh;
  suite_cluster() { mesh = std::make_unique<launched_secure>(); }
  ~suite_cluster() { mesh.reset(); }
};

/// What a case sees of the suite's cluster.
struct secure_mesh {
  launched_secure& cluster = *suite_cluster::mesh;
  std::unique_ptr<nats_transport> as(const std::string& user, int server = 0, std::string inboxes = "") {
    return cluster.as(user, server, std::move(inboxes));
  }
  std::string url(int i) const { return cluster.url(i); }
};

request invoice(const std::string& id) {
  auto req = test::image_request(source + "/samples/invoice-upright.jpg", id);
  req.deadline_ms = 60000;
  return req;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(secure_cluster, *boost::unit_test::fixture<suite_cluster>())

BOOST_FIXTURE_TEST_CASE(nodes_serve_core_and_durable_requests_with_only_their_own_permissions, secure_mesh) {
  for (int server = 0; server < 3; ++server) {
    auto client = as("client-a", server);
    const auto core = send_request(*client, "classify", invoice("core-" + std::to_string(server)), encoding::msgpack, 60s);
    BOOST_TEST(core.ok, "server " << server << ": " << test::code_of(core) << ": " << test::message_of(core));
    auto req = test::image_request(source + "/samples/receipt-upright.jpg", "durable-" + std::to_string(server));
    req.doc_type = "receipt";
    req.deadline_ms = 60000;
    const auto durable = send_durable(*client, "process", req, encoding::msgpack, 90s);
    BOOST_TEST(durable.ok, "server " << server << ": " << test::code_of(durable) << ": " << test::message_of(durable));
  }
}

BOOST_FIXTURE_TEST_CASE(an_anonymous_client_or_a_wrong_password_cannot_connect_to_any_server, secure_mesh) {
  for (int server = 0; server < 3; ++server) {
    nats_options anonymous;
    anonymous.servers = {url(server)};
    anonymous.max_reconnect = 0;
    anonymous.log_events = false;
    auto a = nats_transport::connect(anonymous);
    BOOST_TEST(!a, "server " << server << " let an anonymous client in");
    anonymous.credentials.user = "client-a";
    anonymous.credentials.password = "guess";
    BOOST_TEST(!nats_transport::connect(anonymous), "server " << server << " took a wrong password");
  }
}

BOOST_FIXTURE_TEST_CASE(a_client_reads_no_other_clients_replies, secure_mesh) {
  auto eavesdropper = as("client-a");
  std::atomic<int> read{0};
  auto wide = eavesdropper->subscribe("_INBOX.>", "", [&](incoming_message&&) { ++read; });
  auto theirs = eavesdropper->subscribe("_INBOX.client-b.>", "", [&](incoming_message&&) { ++read; });
  BOOST_REQUIRE(wide && theirs);  // accepted locally; the server refuses both (permission violations)
  eavesdropper->flush(2s);
  auto victim = as("client-b");
  for (int i = 0; i < 5; ++i) {
    const auto r = send_request(*victim, "classify", invoice("victim-" + std::to_string(i)), encoding::msgpack, 60s);
    BOOST_TEST(r.ok, test::code_of(r) << ": " << test::message_of(r));
  }
  eavesdropper->flush(2s);
  BOOST_TEST(read.load() == 0, "client-a read " << read.load() << " of client-b's replies");
  auto unprefixed = as("client-b", 0, "-");  // under the default _INBOX. prefix it cannot even read its own
  const auto r = send_request(*unprefixed, "classify", invoice("unprefixed"), encoding::msgpack, 3s);
  BOOST_TEST(!r.ok);
}

BOOST_FIXTURE_TEST_CASE(a_client_cannot_join_the_nodes_queue_group, secure_mesh) {
  auto forger = as("client-a");
  std::atomic<int> stolen{0};
  auto sub = forger->subscribe("infermesh.v1.classify", "infermesh", [&](incoming_message&& m) {
    ++stolen;
    forger->publish(m.reply, "forged");
  });
  BOOST_REQUIRE(sub);
  forger->flush(2s);
  auto victim = as("client-b");
  for (int i = 0; i < 10; ++i) {  // a queue group of four would give the forger about a quarter
    const auto r = send_request(*victim, "classify", invoice("queue-" + std::to_string(i)), encoding::msgpack, 60s);
    BOOST_TEST(r.ok);
    BOOST_TEST(r.node.rfind("node-", 0) == 0, r.node);
  }
  BOOST_TEST(stolen.load() == 0);
}

BOOST_FIXTURE_TEST_CASE(the_control_subject_is_the_operators_alone, secure_mesh) {
  const std::string list = R"({"command":"list"})";
  auto op = as("operator");
  auto answer = op->request("infermesh.v1.control.node-1", list, 10s);
  BOOST_REQUIRE_MESSAGE(answer, (answer ? "" : answer.err().message));
  BOOST_TEST(std::string(answer->view()).find("\"ok\":true") != std::string::npos, std::string(answer->view()));
  auto client = as("client-a");
  auto refused = client->request("infermesh.v1.control.node-1", list, 3s);
  BOOST_TEST(!refused, "a client used the control subject");
  auto node = as("infermesh-node", 0, "_INBOX.infermesh");  // a node may serve the control subject, not command another node
  BOOST_TEST(!node->request("infermesh.v1.control.node-2", list, 3s));
}

BOOST_AUTO_TEST_SUITE_END()
