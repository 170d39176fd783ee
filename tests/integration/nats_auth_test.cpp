// Who may talk to the mesh: against a nats-server that requires users (real accounts with permissions), a node
// connects with the credentials of its config, the CLI with INFERMESH_NATS_* from its environment (never flags);
// an anonymous client, or one with a wrong password, cannot connect; a client allowed only to publish requests
// cannot join the nodes' queue group and answer them in their place. Over TLS (a CA, server and client
// certificates made by openssl for the run), only clients with a certificate the server's CA signed connect.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "runtime/config.hpp"
#include "runtime/nats_transport.hpp"
#include "runtime/request_client.hpp"
#include "support/child_process.hpp"
#include "support/free_port.hpp"
#include "support/nats_server.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const std::string samples = std::string(INFERMESH_SOURCE_DIR) + "/samples/";

/// A nats-server on a free 127.0.0.1 port whose users are `node` (may serve: subscribe to the ops, the service
/// API, its inboxes, the JetStream API) and `client` (may only publish requests and read its inbox replies), and
/// no anonymous access. Stopped by PID at the end.
struct guarded_nats {
  int port = test::free_loopback_port();
  std::string dir = test::make_temp_dir("infermesh-auth");
  std::string url = "nats://127.0.0.1:" + std::to_string(port);
  std::unique_ptr<test::child_process> server;

  guarded_nats() {
    std::ofstream(dir + "/nats.conf") << "listen: 127.0.0.1:" << port << "\n" << R"(authorization {
  users = [
    {user: node, password: node-secret, permissions: {
       publish: {allow: ["_INBOX.>", "$SRV.>", "infermesh.v1.>"]},
       subscribe: {allow: ["infermesh.v1.>", "$SRV.>", "_INBOX.>"]}}}
    {user: client, password: client-secret, permissions: {
       publish: {allow: ["infermesh.v1.classify", "infermesh.v1.ocr", "infermesh.v1.extract", "infermesh.v1.process"]},
       subscribe: {allow: ["_INBOX.>"]}}}
  ]
}
)";
    server = std::make_unique<test::child_process>("nats-server", std::vector<std::string>{NATS_SERVER_BINARY, "-c", dir + "/nats.conf"});
    if (!server->wait_for_line("Server is ready", 10s)) throw std::runtime_error("nats-server: " + server->output());
  }
  ~guarded_nats() {
    server.reset();
    std::filesystem::remove_all(dir);
  }
};

/// A node whose config carries the node user's credentials (`nats.auth`).
std::string guarded_node_config() {
  test::synthetic_extras extras;
  extras.top = "nats:\n  auth: {user: node, password: node-secret}\n";
  return test::synthetic_config(1000, "max_batch_size: 4", "", extras);
}

nats_options as(const std::string& url, const std::string& user, const std::string& password) {
  nats_options o;
  o.servers = {url};
  o.max_reconnect = 0;
  o.log_events = false;
  o.credentials.user = user;
  o.credentials.password = password;
  return o;
}

/// A nats-server that speaks only TLS and asks every client for a certificate (`verify: true`), with a CA, a
/// server certificate for 127.0.0.1 and a client certificate made by openssl for this run; a second CA that
/// signed nothing the server trusts. Stopped by PID at the end.
struct tls_nats {
  int port = test::free_loopback_port();
  std::string dir = test::make_temp_dir("infermesh-tls");
  std::string url = "nats://127.0.0.1:" + std::to_string(port);
  std::unique_ptr<test::child_process> server;

  static void run(const std::string& command) {
    if (std::system((command + " > /dev/null 2>&1").c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  void certificate(const std::string& name, const std::string& ca, const std::string& san) {
    const std::string key = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes ";
    run("openssl req" + key + "-keyout " + dir + "/" + name + ".key -out " + dir + "/" + name + ".csr -subj /CN=" + name);
    std::ofstream(dir + "/" + name + ".ext") << "subjectAltName=" << san << "\n";
    run("openssl x509 -req -days 1 -in " + dir + "/" + name + ".csr -CA " + dir + "/" + ca + ".pem -CAkey " + dir + "/" +
        ca + ".key -CAcreateserial -out " + dir + "/" + name + ".pem -extfile " + dir + "/" + name + ".ext");
  }
  tls_nats() {
    for (const char* ca : {"ca", "other-ca"})
      run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=" +
          std::string(ca) + " -keyout " + dir + "/" + ca + ".key -out " + dir + "/" + ca + ".pem");
    certificate("server", "ca", "IP:127.0.0.1");
    certificate("client", "ca", "DNS:client");
    certificate("stranger", "other-ca", "DNS:stranger");
    std::ofstream(dir + "/nats.conf") << "listen: 127.0.0.1:" << port << "\ntls {\n  cert_file: \"" << dir
                                      << "/server.pem\"\n  key_file: \"" << dir << "/server.key\"\n  ca_file: \"" << dir
                                      << "/ca.pem\"\n  verify: true\n  timeout: 2\n}\n";
    server = std::make_unique<test::child_process>("nats-server-tls", std::vector<std::string>{NATS_SERVER_BINARY, "-c", dir + "/nats.conf"});
    if (!server->wait_for_line("Server is ready", 10s)) throw std::runtime_error("nats-server: " + server->output());
  }
  ~tls_nats() {
    server.reset();
    std::filesystem::remove_all(dir);
  }

  /// Client options with `ca` trusted and `certificate` (may be empty) presented.
  nats_options client(const std::string& ca, const std::string& certificate) const {
    nats_options o;
    o.servers = {url};
    o.max_reconnect = 0;
    o.log_events = false;
    o.credentials.tls = true;
    o.credentials.tls_ca_file = dir + "/" + ca + ".pem";
    if (!certificate.empty()) {
      o.credentials.tls_cert_file = dir + "/" + certificate + ".pem";
      o.credentials.tls_key_file = dir + "/" + certificate + ".key";
    }
    return o;
  }
};

reply classify(nats_transport& t) {
  request req;
  std::ifstream in(samples + "invoice-upright.jpg", std::ios::binary);
  req.image = shared_bytes::copy_of(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  req.id = random_request_id();
  return send_request(t, "classify", req, encoding::msgpack, 20s);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(nats_auth)

BOOST_AUTO_TEST_CASE(anonymous_clients_and_wrong_passwords_cannot_connect) {
  guarded_nats nats;
  nats_options anonymous;
  anonymous.servers = {nats.url};
  anonymous.max_reconnect = 0;
  anonymous.log_events = false;
  auto a = nats_transport::connect(anonymous);
  BOOST_REQUIRE(!a);
  BOOST_TEST(a.err().message.find("authorization") != std::string::npos, a.err().message);
  auto wrong = nats_transport::connect(as(nats.url, "client", "guess"));
  BOOST_REQUIRE(!wrong);
  BOOST_TEST(wrong.err().message.find("as user client: authorization failed") != std::string::npos, wrong.err().message);
}

BOOST_AUTO_TEST_CASE(a_node_serves_with_its_configs_credentials_and_a_client_with_its_own) {
  guarded_nats nats;
  test::node_process node(guarded_node_config(), nats.url, "guarded");
  auto client = nats_transport::connect(as(nats.url, "client", "client-secret"));
  BOOST_REQUIRE_MESSAGE(client, (client ? "" : client.err().message));
  const auto r = classify(**client);
  BOOST_TEST(r.ok, (r.failure ? r.failure->message : ""));
  BOOST_TEST(r.node == "guarded");
}

BOOST_AUTO_TEST_CASE(the_cli_takes_credentials_from_the_environment_never_from_flags) {
  guarded_nats nats;
  test::node_process node(guarded_node_config(), nats.url, "guarded");
  const std::string cli = std::string(INFERMESH_BINARY) + " request classify " + samples + "invoice-upright.jpg --nats " +
                          nats.url + " > /dev/null 2>&1";
  BOOST_TEST(std::system(cli.c_str()) != 0, "without INFERMESH_NATS_USER/PASSWORD it cannot connect");
  setenv("INFERMESH_NATS_USER", "client", 1);
  setenv("INFERMESH_NATS_PASSWORD", "client-secret", 1);
  const int status = std::system(cli.c_str());
  unsetenv("INFERMESH_NATS_USER");
  unsetenv("INFERMESH_NATS_PASSWORD");
  BOOST_TEST(status == 0);
}

BOOST_AUTO_TEST_CASE(a_client_cannot_join_the_nodes_queue_group_to_answer_in_their_place) {
  guarded_nats nats;
  test::node_process node(guarded_node_config(), nats.url, "guarded");
  auto forger = nats_transport::connect(as(nats.url, "client", "client-secret"));
  BOOST_REQUIRE(forger);
  std::atomic<int> stolen{0};
  auto sub = (*forger)->subscribe("infermesh.v1.classify", "infermesh", [&](incoming_message&& m) {
    ++stolen;
    (*forger)->publish(m.reply, "forged");
  });
  BOOST_REQUIRE(sub);  // accepted locally; the server refuses it (a permissions violation)
  (*forger)->flush(2s);
  auto victim = nats_transport::connect(as(nats.url, "client", "client-secret"));
  BOOST_REQUIRE(victim);
  constexpr int requests = 10;  // a queue group of two would give the forger about half
  for (int i = 0; i < requests; ++i) {
    const auto r = classify(**victim);
    BOOST_TEST(r.ok);
    BOOST_TEST(r.node == "guarded");
  }
  BOOST_TEST(stolen.load() == 0);
}

BOOST_AUTO_TEST_CASE(over_tls_a_node_and_a_client_with_certificates_from_the_servers_ca_are_served) {
  const tls_nats nats;
  test::synthetic_extras extras;
  extras.top = "nats:\n  tls: {ca_file: " + nats.dir + "/ca.pem, cert_file: " + nats.dir + "/client.pem, key_file: " +
               nats.dir + "/client.key}\n";
  test::node_process node(test::synthetic_config(1000, "max_batch_size: 4", "", extras), nats.url, "tls-node");
  auto client = nats_transport::connect(nats.client("ca", "client"));
  BOOST_REQUIRE_MESSAGE(client, (client ? "" : client.err().message));
  const auto r = classify(**client);
  BOOST_TEST(r.ok, (r.failure ? r.failure->message : ""));
  BOOST_TEST(r.node == "tls-node");
}

BOOST_AUTO_TEST_CASE(over_tls_no_certificate_a_stranger_certificate_or_plain_text_cannot_connect) {
  const tls_nats nats;
  BOOST_TEST(!bool(nats_transport::connect(nats.client("ca", ""))), "the server asks every client for a certificate");
  BOOST_TEST(!bool(nats_transport::connect(nats.client("ca", "stranger"))), "signed by a CA the server does not trust");
  BOOST_TEST(!bool(nats_transport::connect(nats.client("other-ca", "client"))), "the client does not trust the server");
  auto plain = nats.client("ca", "client");
  plain.credentials = {};
  BOOST_TEST(!bool(nats_transport::connect(plain)), "the server speaks only TLS");
  BOOST_TEST(bool(nats_transport::connect(nats.client("ca", "client"))), "(and the right certificate does connect)");
}

BOOST_AUTO_TEST_CASE(credentials_that_cannot_work_are_config_errors_naming_the_key) {
  const std::string base = std::string(INFERMESH_SOURCE_DIR) + "/cluster-config";
  auto yaml = [](const std::string& nats) {
    return "node: {name: n}\nnats:\n" + nats +
           "models: [{name: m, serves: classify, backend: synthetic, labels: [a, b], input: {width: 8, height: 8}}]\n"
           "pipelines: {classify: [classify]}\n";
  };
  auto c = parse_config(yaml("  auth: {user: u}\n"), base, "t.yaml");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("nats.auth.password") != std::string::npos, c.err().message);
  c = parse_config(yaml("  auth: {user: u, password: p, token: t}\n"), base, "t.yaml");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("nats.auth") != std::string::npos, c.err().message);
  c = parse_config(yaml("  tls: {cert_file: /nonexistent.pem}\n"), base, "t.yaml");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("nats.tls") != std::string::npos, c.err().message);
  c = parse_config(yaml("  auth: {user: u, pasword: p}\n"), base, "t.yaml");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("nats.auth.pasword") != std::string::npos, c.err().message);
  unsetenv("INFERMESH_TEST_NO_SUCH_PASSWORD");
  c = parse_config(yaml("  auth: {user: u, password_env: INFERMESH_TEST_NO_SUCH_PASSWORD}\n"), base, "t.yaml");
  BOOST_REQUIRE(!c);
  BOOST_TEST(c.err().message.find("nats.auth.password_env: the environment has no INFERMESH_TEST_NO_SUCH_PASSWORD") !=
                 std::string::npos,
             c.err().message);
  setenv("INFERMESH_TEST_PASSWORD", "from-the-environment", 1);
  c = parse_config(yaml("  auth: {user: u, password_env: INFERMESH_TEST_PASSWORD}\n"), base, "t.yaml");
  unsetenv("INFERMESH_TEST_PASSWORD");
  BOOST_REQUIRE_MESSAGE(c, (c ? "" : c.err().message));
  BOOST_TEST(c->nats.credentials.password == "from-the-environment");
  for (const char* bad : {"_INBOX.>", "_INBOX.*.x", "_INBOX.", ".x", "has space"}) {
    c = parse_config(yaml("  inbox_prefix: \"" + std::string(bad) + "\"\n"), base, "t.yaml");
    BOOST_TEST(!c, bad);
    if (!c) BOOST_TEST(c.err().message.find("nats.inbox_prefix") != std::string::npos, c.err().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
