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
#include "support/local_cluster_file.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;
using infermesh::test::ends_within;
using infermesh::test::newest_pid;
using namespace std::chrono_literals;

namespace {

const std::string source = std::string(INFERMESH_SOURCE_DIR);

/// local-3node.yaml in a temp folder, on free ports, its model paths absolute; the launcher's run dir beside it.
struct local_3node : test::local_cluster_file {
  local_3node() : local_cluster_file("local-3node") {}
};

struct launched_3node : local_3node {
  test::launched_cluster_file launched{*this, "cluster-3node"};
  test::child_process& launcher = launched.launcher;
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
