// `infermesh cluster` on cluster-config/local-3node.yaml (ports moved to free ones): it renders and checks each
// NATS server's config, starts the three servers, waits for their /healthz, starts the three nodes, waits for
// their $SRV answers and prints the status table; requests are answered through every server, core and
// durable; a NATS server killed with kill -9 is restarted and ready again; SIGINT drains the nodes, then the
// servers leave in lame-duck mode, and nothing is left running.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "runtime/request_client.hpp"
#include "support/child_process.hpp"
#include "support/launched.hpp"
#include "support/client.hpp"
#include "support/free_port.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;
using infermesh::test::ends_within;
using infermesh::test::newest_pid;
using namespace std::chrono_literals;

namespace {

const std::string source = std::string(INFERMESH_SOURCE_DIR);

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = 0; (at = text.find(from, at)) != std::string::npos; at += to.size()) text.replace(at, from.size(), to);
  return text;
}

/// local-3node.yaml in a temp folder, on free ports, its model paths absolute; the launcher's run dir beside it.
struct local_3node {
  std::string dir = test::make_temp_dir("infermesh-local-3node");
  std::string file = dir + "/local-3node.yaml";
  std::string run_dir = dir + "/run";
  std::vector<int> client_ports;

  local_3node() {
    std::ifstream in(source + "/cluster-config/local-3node.yaml");
    std::stringstream s;
    s << in.rdbuf();
    std::string text = replace_all(s.str(), "../model-repository/", source + "/model-repository/");
    std::set<int> taken;  // nine different ports (the kernel may hand one out twice in a row)
    const auto fresh_port = [&] {
      for (;;)
        if (const int p = test::free_loopback_port(); taken.insert(p).second) return p;
    };
    for (const char* prefix : {"client_port: ", "cluster_port: ", "monitor_port: "})
      for (int base : {4222, 6222, 8222})
        for (int i = 0; i < 3; ++i) {
          const auto key = std::string(prefix) + std::to_string(base + i) + ",";
          if (text.find(key) == std::string::npos) continue;
          const int port = fresh_port();
          if (std::string(prefix) == "client_port: ") client_ports.push_back(port);
          text = replace_all(text, key, std::string(prefix) + std::to_string(port) + ",");
        }
    std::ofstream(file) << text;
  }
  ~local_3node() { std::filesystem::remove_all(dir); }

  std::string url(int i) const { return "nats://127.0.0.1:" + std::to_string(client_ports.at(static_cast<std::size_t>(i))); }
};

struct launched_3node : local_3node {
  test::child_process launcher{"cluster-3node", {INFERMESH_BINARY, "cluster", "--config", file, "--run-dir", run_dir}};

  launched_3node() {
    if (client_ports.size() != 3) throw std::runtime_error("local-3node.yaml no longer has three client ports");
    if (!launcher.wait_for_line(": ready", 180s)) throw std::runtime_error("the cluster did not become ready:\n" + launcher.output());
  }

  ~launched_3node() {
    std::vector<pid_t> pids;
    for (const char* name : {"nats-1", "nats-2", "nats-3", "node-1", "node-2", "node-3"}) pids.push_back(newest_pid(launcher, name));
    launcher.signal(SIGKILL);  // its children get SIGTERM from the kernel
    for (pid_t pid : pids)
      if (pid > 0 && !ends_within(pid, 30s)) ::kill(pid, SIGKILL);
  }
};

reply process_through(const std::string& url, const std::string& id, bool durable) {
  test::client client(url);
  auto req = test::image_request(source + "/samples/receipt-upright.jpg", id);
  req.doc_type = "receipt";
  req.deadline_ms = 60000;
  if (durable) return send_durable(client.transport(), "process", req, encoding::msgpack, 90s);
  return client.send("process", req);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_with_nats)

BOOST_FIXTURE_TEST_CASE(one_command_brings_up_three_servers_and_three_nodes_and_every_server_answers, launched_3node) {
  const auto out = launcher.output();
  for (const char* name : {"node-1", "node-2", "node-3"}) {
    BOOST_TEST(out.find("cluster: node '" + std::string(name) + "' ready") != std::string::npos, name);
    BOOST_TEST(std::regex_search(out, std::regex("\\n" + std::string(name) + " +\\S+ +classify,extract,ocr,process ")),
               "the status table lists " << name << ":\n" << out);
  }
  for (const char* name : {"nats-1", "nats-2", "nats-3"}) {
    BOOST_TEST(out.find("nats-server '" + std::string(name) + "' ready") != std::string::npos, name);
    BOOST_TEST(std::filesystem::exists(run_dir + "/nats/" + name + ".conf"));
    BOOST_TEST(std::filesystem::exists(run_dir + "/jetstream/" + name), "JetStream's store is under the run dir");
  }
  BOOST_TEST(out.find("node-1 | ") != std::string::npos, "each child's output comes prefixed with its name");
  for (int i = 0; i < 3; ++i)
    for (bool durable : {false, true}) {
      const auto id = "via-" + std::to_string(i) + (durable ? "-durable" : "-core");
      const auto rep = process_through(url(i), id, durable);
      BOOST_TEST(rep.ok, id << ": " << test::code_of(rep) << ": " << test::message_of(rep));
      BOOST_TEST(rep.id == id);
    }
  launcher.signal(SIGUSR1);  // the status table again, on demand
  BOOST_TEST(launcher.wait_for_line("status (SIGUSR1)", 30s), launcher.output());
  BOOST_TEST(launcher.wait_for_lines("PROCESS ", 2, 30s), launcher.output());
  std::ifstream node_log(run_dir + "/logs/node-1.log");
  std::string first_line;
  BOOST_TEST(static_cast<bool>(std::getline(node_log, first_line)), "node-1 has its own log file");
}

BOOST_FIXTURE_TEST_CASE(a_nats_server_killed_with_kill_9_is_restarted_and_ready_again, launched_3node) {
  const pid_t first = newest_pid(launcher, "nats-2");
  BOOST_REQUIRE(first > 0);
  BOOST_REQUIRE(::kill(first, SIGKILL) == 0);
  BOOST_REQUIRE(launcher.wait_for_line("nats-server 'nats-2' was killed by signal 9; restarting it", 10s));
  BOOST_REQUIRE(launcher.wait_for_lines("nats-server 'nats-2' ready", 2, 60s));
  BOOST_TEST(newest_pid(launcher, "nats-2") != first);
  const auto rep = process_through(url(1), "after-restart", false);
  BOOST_TEST(rep.ok, test::code_of(rep) << ": " << test::message_of(rep));
}

BOOST_FIXTURE_TEST_CASE(sigint_drains_the_nodes_then_the_servers_leave_and_nothing_is_left, launched_3node) {
  std::vector<pid_t> pids;
  for (const char* name : {"nats-1", "nats-2", "nats-3", "node-1", "node-2", "node-3"}) pids.push_back(newest_pid(launcher, name));
  launcher.signal(SIGINT);
  BOOST_TEST(launcher.wait_exit(90s).value_or(-1) == 0, launcher.output());
  const auto out = launcher.output();
  const auto last_node = std::max({out.find("node 'node-1' exited with status 0"), out.find("node 'node-2' exited with status 0"),
                                   out.find("node 'node-3' exited with status 0")});
  const auto first_server = std::min({out.find("nats-server 'nats-1' exited with status 0"),
                                      out.find("nats-server 'nats-2' exited with status 0"),
                                      out.find("nats-server 'nats-3' exited with status 0")});
  BOOST_TEST(last_node != std::string::npos);
  BOOST_TEST(first_server != std::string::npos);
  BOOST_TEST(last_node < first_server, "every node had drained before a NATS server left");
  for (pid_t pid : pids) BOOST_TEST(ends_within(pid, 1s), "pid " << pid << " is gone");
}

BOOST_AUTO_TEST_CASE(a_host_the_file_does_not_name_is_refused_with_the_hosts) {
  const local_3node files;
  test::child_process launcher{"cluster-bad-host", {INFERMESH_BINARY, "cluster", "--config", files.file, "--host", "elsewhere",
                                                    "--run-dir", files.run_dir}};
  BOOST_TEST(launcher.wait_exit(30s).value_or(-1) == 2);
  BOOST_TEST(launcher.output().find("--host elsewhere is not one of hosts: local") != std::string::npos, launcher.output());
}

BOOST_AUTO_TEST_SUITE_END()
