// `infermesh cluster` on cluster-config/two-node.yaml: it launches every node of the file, restarts a node that
// crashes, leaves stopped a node someone stopped, drains every node on SIGTERM, and its nodes do not outlive it.
// A cluster file's `supervision:` sets how often it restarts a node.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <regex>

#include "support/child_process.hpp"
#include "support/launched.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;
using infermesh::test::ends_within;
using infermesh::test::newest_pid;
using namespace std::chrono_literals;

namespace {

const std::string samples = std::string(INFERMESH_SOURCE_DIR) + "/samples/";

struct temp_dir {
  std::string path = test::make_temp_dir("infermesh-cluster");
  ~temp_dir() { std::filesystem::remove_all(path); }
};

/// A test nats-server and `infermesh cluster --config cluster-config/two-node.yaml` against it, both nodes ready.
struct launched_cluster {
  test::nats_server nats;
  temp_dir run;
  test::child_process launcher{"cluster", {INFERMESH_BINARY, "cluster", "--config",
                                           std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/two-node.yaml",
                                           "--nats", nats.url(), "--run-dir", run.path}};
  test::client client{nats.url()};

  launched_cluster() {
    if (!launcher.wait_for_lines("ready: serving", 2, 120s))
      throw std::runtime_error("the cluster's nodes did not become ready:\n" + launcher.output());
  }

  pid_t pid_of(const std::string& node) const { return newest_pid(launcher, node); }

  reply classify() {
    auto req = test::image_request(samples + "invoice-upright.jpg");
    req.deadline_ms = 60000;
    return client.send("classify", req);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(cluster_launcher)

BOOST_FIXTURE_TEST_CASE(a_node_killed_with_kill_9_is_restarted_and_serves_again, launched_cluster) {
  const pid_t first = pid_of("node-a");
  BOOST_REQUIRE(first > 0);
  BOOST_REQUIRE(classify().ok);
  BOOST_REQUIRE(::kill(first, SIGKILL) == 0);
  BOOST_REQUIRE(launcher.wait_for_line("cluster: node 'node-a' was killed by signal 9; restarting it", 10s));
  BOOST_REQUIRE(launcher.wait_for_line("cluster: node 'node-a' restarted", 30s));
  BOOST_REQUIRE(launcher.wait_for_lines("ready: serving", 3, 120s));
  BOOST_TEST(pid_of("node-a") != first);
  const auto rep = classify();  // classify is node-a's alone
  BOOST_TEST(rep.ok, test::code_of(rep) << ": " << test::message_of(rep));
  BOOST_TEST(rep.node == "node-a");
  launcher.signal(SIGTERM);
  BOOST_TEST(launcher.wait_exit(60s).value_or(-1) == 0, "the launcher exits 0 when every node drained cleanly");
}

BOOST_FIXTURE_TEST_CASE(a_node_stopped_with_sigterm_drains_and_stays_stopped, launched_cluster) {
  BOOST_REQUIRE(::kill(pid_of("node-b"), SIGTERM) == 0);
  BOOST_REQUIRE(launcher.wait_for_line("cluster: node 'node-b' exited with status 0", 60s));
  BOOST_TEST(classify().ok, "the other node serves on");
  BOOST_TEST(launcher.output().find("'node-b' restarted") == std::string::npos);
  launcher.signal(SIGTERM);
  BOOST_TEST(launcher.wait_exit(60s).value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(sighup_starts_a_drained_node_again_and_its_pid_file_follows_it, launched_cluster) {
  const auto pid_file = run.path + "/pids/node-b.pid";
  auto pid_in_file = [&] {
    std::ifstream in(pid_file);
    long pid = -1;
    return (in >> pid) ? static_cast<pid_t>(pid) : pid_t{-1};
  };
  BOOST_REQUIRE(launcher.wait_for_line("cluster: node 'node-b' ready", 60s));  // the launcher's own probe saw it
  const pid_t first = pid_of("node-b");
  BOOST_TEST(pid_in_file() == first, "the pid file names the running node");
  BOOST_REQUIRE(::kill(first, SIGTERM) == 0);
  BOOST_REQUIRE(launcher.wait_for_line("cluster: node 'node-b' exited with status 0", 60s));
  BOOST_TEST(!std::filesystem::exists(pid_file), "a stopped node has no pid file");
  launcher.signal(SIGHUP);
  BOOST_REQUIRE(launcher.wait_for_line("SIGHUP: starting node 'node-b' again", 10s));
  BOOST_REQUIRE(launcher.wait_for_lines("cluster: node 'node-b' ready", 2, 120s));
  BOOST_TEST(pid_in_file() != first);
  BOOST_TEST(pid_in_file() == pid_of("node-b"));
  launcher.signal(SIGTERM);
  BOOST_TEST(launcher.wait_exit(60s).value_or(-1) == 0);
}

BOOST_FIXTURE_TEST_CASE(stopping_the_launcher_drains_every_node, launched_cluster) {
  launcher.signal(SIGTERM);
  BOOST_TEST(launcher.wait_exit(60s).value_or(-1) == 0);
  BOOST_TEST(launcher.output().find("node 'node-a' stopped") != std::string::npos);
  BOOST_TEST(launcher.output().find("node 'node-b' stopped") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(a_killed_launcher_leaves_no_node_behind, launched_cluster) {
  const pid_t a = pid_of("node-a"), b = pid_of("node-b");
  launcher.signal(SIGKILL);
  for (pid_t node : {a, b}) {
    const bool ended = ends_within(node, 60s);
    BOOST_TEST(ended, "node pid " << node << " got SIGTERM from the kernel when its launcher died, and drained");
    if (!ended) ::kill(node, SIGKILL);
  }
}

BOOST_AUTO_TEST_CASE(past_the_files_restart_intensity_a_crashing_node_waits_a_whole_period) {
  test::nats_server nats;
  const temp_dir dir;
  const std::string file = dir.path + "/cluster.yaml";
  std::ofstream(file) << "supervision: {max_restarts: 1, period_ms: 600000, backoff_ms: 200, max_backoff_ms: 200}\n"
                         "nodes:\n"
                         "  - node: {name: solo, stats_interval_ms: 0}\n"
                         "    models:\n"
                         "      - {name: synthetic, serves: classify, backend: synthetic, labels: [a, b],\n"
                         "         input: {width: 32, height: 32}, synthetic: {latency_us: 100}}\n"
                         "pipelines: {classify: [classify]}\n";
  test::child_process launcher{"cluster", {INFERMESH_BINARY, "cluster", "--config", file, "--nats", nats.url(), "--run-dir", dir.path + "/run"}};
  BOOST_REQUIRE(launcher.wait_for_lines("ready: serving", 1, 60s));
  BOOST_REQUIRE(::kill(newest_pid(launcher, "solo"), SIGKILL) == 0);  // the first crash: restarted after the file's 200 ms
  BOOST_REQUIRE(launcher.wait_for_line("cluster: node 'solo' was killed by signal 9; restarting it in 200 ms", 10s));
  BOOST_REQUIRE(launcher.wait_for_lines("ready: serving", 2, 60s));
  BOOST_REQUIRE(::kill(newest_pid(launcher, "solo"), SIGKILL) == 0);  // the second within the period: past max_restarts 1
  BOOST_TEST(launcher.wait_for_line("it failed more than 1 times within 600000 ms: next try in 600000 ms", 10s),
             launcher.output());
  BOOST_TEST(!launcher.wait_for_lines("ready: serving", 3, 2s), "not restarted before the period is over");
  launcher.signal(SIGTERM);
  BOOST_TEST(launcher.wait_exit(30s).value_or(-1) == 1, "the launcher's exit says its node's last end was a crash");
}

BOOST_AUTO_TEST_SUITE_END()
