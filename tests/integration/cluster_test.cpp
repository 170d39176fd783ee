// `infermesh cluster` on cluster-config/two-node.yaml: it launches every node of the file, restarts a node that
// crashes, leaves stopped a node someone stopped, drains every node on SIGTERM, and its nodes do not outlive it.
#include <boost/test/unit_test.hpp>

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <regex>

#include "support/child_process.hpp"
#include "support/client.hpp"
#include "support/nats_server.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

const std::string samples = std::string(INFERMESH_SOURCE_DIR) + "/models/samples/";

/// A test nats-server and `infermesh cluster --config cluster-config/two-node.yaml` against it, both nodes ready.
struct launched_cluster {
  test::nats_server nats;
  test::child_process launcher{"cluster", {INFERMESH_BINARY, "cluster", "--config",
                                           std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/two-node.yaml",
                                           "--nats", nats.url()}};
  test::client client{nats.url()};

  launched_cluster() {
    if (!launcher.wait_for_lines("ready: serving", 2, 120s))
      throw std::runtime_error("the cluster's nodes did not become ready:\n" + launcher.output());
  }

  /// The pid of `node`'s newest process, from the launcher's log.
  pid_t pid_of(const std::string& node) const {
    const std::string out = launcher.output();
    const std::regex started("cluster: node '" + node + "' (started|restarted), pid (\\d+)");
    pid_t pid = -1;
    for (std::sregex_iterator it(out.begin(), out.end(), started), end; it != end; ++it) pid = std::stoi((*it)[2]);
    return pid;
  }

  reply classify() {
    auto req = test::image_request(samples + "invoice-upright.jpg");
    req.deadline_ms = 60000;
    return client.send("classify", req);
  }
};

/// Waits until the process `pid` (not our child: the launcher's) has ended, through a pidfd, which turns
/// readable when it exits (whether or not whoever adopted it reaped it yet).
bool ends_within(pid_t pid, std::chrono::milliseconds timeout) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone
  pollfd p{fd, POLLIN, 0};
  const bool exited = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  ::close(fd);
  return exited;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(cluster_launcher, launched_cluster)

BOOST_AUTO_TEST_CASE(a_node_killed_with_kill_9_is_restarted_and_serves_again) {
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

BOOST_AUTO_TEST_CASE(a_node_stopped_with_sigterm_drains_and_stays_stopped) {
  BOOST_REQUIRE(::kill(pid_of("node-b"), SIGTERM) == 0);
  BOOST_REQUIRE(launcher.wait_for_line("cluster: node 'node-b' exited with status 0", 60s));
  BOOST_TEST(classify().ok, "the other node serves on");
  BOOST_TEST(launcher.output().find("'node-b' restarted") == std::string::npos);
  launcher.signal(SIGTERM);
  BOOST_TEST(launcher.wait_exit(60s).value_or(-1) == 0);
}

BOOST_AUTO_TEST_CASE(stopping_the_launcher_drains_every_node) {
  launcher.signal(SIGTERM);
  BOOST_TEST(launcher.wait_exit(60s).value_or(-1) == 0);
  BOOST_TEST(launcher.output().find("node 'node-a' stopped") != std::string::npos);
  BOOST_TEST(launcher.output().find("node 'node-b' stopped") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_killed_launcher_leaves_no_node_behind) {
  const pid_t a = pid_of("node-a"), b = pid_of("node-b");
  launcher.signal(SIGKILL);
  for (pid_t node : {a, b}) {
    const bool ended = ends_within(node, 60s);
    BOOST_TEST(ended, "node pid " << node << " got SIGTERM from the kernel when its launcher died, and drained");
    if (!ended) ::kill(node, SIGKILL);
  }
}

BOOST_AUTO_TEST_SUITE_END()
