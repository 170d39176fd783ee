// The nats-server configuration the launcher derives for each server of a cluster file: what a JetStream
// cluster needs, and accepted by the real `nats-server -t`.
#include <boost/test/unit_test.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "runtime/nats_server_config.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;

namespace {

const std::string base = std::string(INFERMESH_SOURCE_DIR) + "/cluster-config";

cluster_plan shipped(const std::string& name) {
  std::ifstream in(base + "/" + name);
  std::stringstream s;
  s << in.rdbuf();
  auto plan = parse_cluster_plan(s.str(), base + "/" + name);
  BOOST_REQUIRE_MESSAGE(plan, (plan ? "" : plan.err().message));
  return *plan;
}

cluster_plan local_3node() { return shipped("local-3node.yaml"); }

struct temp_dir {
  std::string path = test::make_temp_dir("infermesh-nats-config");
  ~temp_dir() { std::filesystem::remove_all(path); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(nats_server_config)

BOOST_AUTO_TEST_CASE(each_server_gets_its_name_ports_store_and_a_route_to_every_server) {
  const auto plan = local_3node();
  const auto text = render_nats_server_config(plan, plan.nats_servers[1], "/run/here");
  BOOST_TEST(text.find("server_name: \"nats-2\"") != std::string::npos, text);
  BOOST_TEST(text.find("listen: \"127.0.0.1:4223\"") != std::string::npos, text);
  BOOST_TEST(text.find("http: \"127.0.0.1:8223\"") != std::string::npos, text);
  BOOST_TEST(text.find("store_dir: \"/run/here/jetstream/nats-2\"") != std::string::npos, text);
  BOOST_TEST(text.find("name: \"infermesh\"") != std::string::npos, text);
  for (const char* route : {"nats-route://127.0.0.1:6222", "nats-route://127.0.0.1:6223", "nats-route://127.0.0.1:6224"})
    BOOST_TEST(text.find(route) != std::string::npos, route << " in\n" << text);
}

BOOST_AUTO_TEST_CASE(the_rendered_configs_pass_nats_server_t) {
  const temp_dir dir;
  const auto plan = local_3node();
  for (const auto& server : plan.nats_servers) {
    const auto path = dir.path + "/" + server.name + ".conf";
    std::ofstream(path) << render_nats_server_config(plan, server, dir.path);
    const auto problem = check_nats_server_config(NATS_SERVER_BINARY, path);
    BOOST_TEST(!problem, (problem ? problem->message : ""));
  }
}

BOOST_AUTO_TEST_CASE(a_config_nats_server_refuses_is_an_error_with_its_words) {
  const temp_dir dir;
  const auto path = dir.path + "/bad.conf";
  std::ofstream(path) << "listen: 127.0.0.1:4222\nlame_duck_duration: \"1s\"\n";
  const auto problem = check_nats_server_config(NATS_SERVER_BINARY, path);
  BOOST_REQUIRE(problem);
  BOOST_TEST(problem->message.find("lame_duck_duration") != std::string::npos, problem->message);
  BOOST_TEST(problem->message.find(path) != std::string::npos, problem->message);
}

BOOST_AUTO_TEST_CASE(the_secure_files_accounts_go_into_every_server_and_pass_nats_server_t_with_the_passwords_set) {
  const temp_dir dir;
  const auto plan = shipped("local-3node-secure.yaml");
  BOOST_TEST(plan.nats_authorization_file == base + "/nats-accounts.conf");
  const char* variables[] = {"INFERMESH_NODE_PASSWORD", "INFERMESH_CLIENT_A_PASSWORD", "INFERMESH_CLIENT_B_PASSWORD",
                             "INFERMESH_OPERATOR_PASSWORD"};
  const auto path = dir.path + "/nats-1.conf";
  const auto text = render_nats_server_config(plan, plan.nats_servers[0], dir.path);
  BOOST_TEST(text.find("accounts {") != std::string::npos, text);
  BOOST_TEST(text.find("password: $INFERMESH_NODE_PASSWORD") != std::string::npos, text);
  std::ofstream(path) << text;
  auto problem = check_nats_server_config(NATS_SERVER_BINARY, path);  // the passwords are not set: refused
  BOOST_REQUIRE(problem);
  BOOST_TEST(problem->message.find("INFERMESH_") != std::string::npos, problem->message);
  for (const char* v : variables) setenv(v, "pw0123456789abcdef", 1);
  problem = check_nats_server_config(NATS_SERVER_BINARY, path);
  for (const char* v : variables) unsetenv(v);
  BOOST_TEST(!problem, (problem ? problem->message : ""));
}

BOOST_AUTO_TEST_CASE(an_authorization_file_that_cannot_be_read_is_an_error_naming_the_key) {
  const auto plan = parse_cluster_plan(
      "nats: {cluster: {authorization: no-such-file.conf, servers: [{name: s1}]}}\nnodes: [{node: {name: n1}}]\n",
      base + "/t.yaml");
  BOOST_REQUIRE(!plan);
  BOOST_TEST(plan.err().message.find("nats.cluster.authorization: cannot read '" + base + "/no-such-file.conf'") !=
                 std::string::npos,
             plan.err().message);
}

BOOST_AUTO_TEST_CASE(nats_server_is_found_on_this_machine) { BOOST_TEST(!find_nats_server().empty()); }

BOOST_AUTO_TEST_SUITE_END()
