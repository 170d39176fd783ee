// The simulator's hosts as network namespaces: who reaches whom over the bridge, and how partitions (both ways
// and one way), a link down and heal change that; nothing of it is left after the destructor. Needs root (tests
// and CI run as root): the cases that make namespaces fail without it, saying why.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <memory>
#include <thread>

#include "simulator/host_network.hpp"
#include "support/child_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// The cluster file's hosts of these tests (one /24, as a multi-host scenario has them).
const std::vector<sim::network_host> three_hosts = {{"a", "10.250.1.11"}, {"b", "10.250.1.12"}, {"c", "10.250.1.13"}};
/// The listener each host runs (Debian's nats-server package).
const char* const nats_server = "/usr/sbin/nats-server";
/// NATS's client port: each host runs its own nats-server there (the namespaces keep them apart).
constexpr int nats_port = 4222;
/// A free UDP port inside the namespaces (nothing else runs there).
constexpr int udp_port = 5999;
/// Long enough for a connect over a veth on a loaded 2-core machine, with one SYN retry (1 s) to spare.
constexpr auto reachable_within = 3s;
/// A reply over a veth takes well under a millisecond: nothing after this long means dropped.
constexpr auto dropped_after = 1s;

/// A tag no other test run uses at the same time (namespace names are machine-wide): pid and a counter.
std::string fresh_tag() {
  static int count = 0;
  return "t" + std::to_string(::getpid()) + std::to_string(count++ % 100);
}

struct fd_guard {
  int fd = -1;
  explicit fd_guard(int f) : fd(f) {}
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
  fd_guard(const fd_guard&) = delete;
  fd_guard& operator=(const fd_guard&) = delete;
};

sockaddr_in endpoint(const std::string& address, int port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, address.c_str(), &sa.sin_addr);
  return sa;
}

/// A socket made inside `host`'s namespace ("client": through enter_client()), on a thread of its own so this
/// thread stays where it is; a socket keeps the namespace it was made in.
std::unique_ptr<fd_guard> socket_in(sim::host_network& net, const std::string& host, int type) {
  int fd = -1;
  std::string failure;
  std::thread([&] {
    if (host == "client") {
      if (auto e = net.enter_client()) return void(failure = e->message);
    } else {
      const std::string path = "/run/netns/" + net.namespace_of(host);
      const int ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0) return void(failure = "cannot open " + path);
      const int rc = ::setns(ns, CLONE_NEWNET);
      ::close(ns);
      if (rc != 0) return void(failure = "setns " + path);
    }
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  }).join();
  BOOST_REQUIRE_MESSAGE(failure.empty() && fd >= 0, "socket in " << host << ": " << failure);
  return std::make_unique<fd_guard>(fd);
}

/// Whether a TCP connect from `from` to `to`'s nats-server succeeds within `timeout`.
bool connects(sim::host_network& net, const std::string& from, const std::string& to,
              std::chrono::milliseconds timeout = reachable_within) {
  auto s = socket_in(net, from, SOCK_STREAM);
  const auto sa = endpoint(net.address(to), nats_port);
  if (::connect(s->fd, reinterpret_cast<const sockaddr*>(&sa), sizeof sa) == 0) return true;
  if (errno != EINPROGRESS) return false;
  pollfd p{s->fd, POLLOUT, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return false;
  int error = 0;
  socklen_t size = sizeof error;
  ::getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &error, &size);
  return error == 0;
}

/// Whether `from` reaches `to` within `within`, trying again until then: a link set up again carries traffic after
/// its neighbours are resolved again, which on a loaded machine can take a few seconds (the simulator's clients
/// reconnect by themselves meanwhile).
bool connects_again(sim::host_network& net, const std::string& from, const std::string& to,
                    std::chrono::milliseconds within = 15s) {
  const auto until = std::chrono::steady_clock::now() + within;
  do {
    if (connects(net, from, to, 1s)) return true;
  } while (std::chrono::steady_clock::now() < until);
  return false;
}

/// Whether a UDP datagram sent from `from` arrives at `to` within `timeout` (one direction only, unlike TCP).
bool datagram_arrives(sim::host_network& net, const std::string& from, const std::string& to,
                      std::chrono::milliseconds timeout = reachable_within) {
  auto receiver = socket_in(net, to, SOCK_DGRAM);
  const auto at = endpoint(net.address(to), udp_port);
  BOOST_REQUIRE(::bind(receiver->fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0);
  auto sender = socket_in(net, from, SOCK_DGRAM);
  const char message[] = "ping";
  ::sendto(sender->fd, message, sizeof message, 0, reinterpret_cast<const sockaddr*>(&at), sizeof at);
  pollfd p{receiver->fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

bool namespace_exists(const std::string& name) { return ::access(("/run/netns/" + name).c_str(), F_OK) == 0; }

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

/// Three hosts with a nats-server listening on each (started through `in()`); the servers stop before the
/// namespaces go, also when a check fails.
struct three_host_network {
  std::unique_ptr<sim::host_network> net;
  std::vector<std::unique_ptr<test::child_process>> servers;  // destroyed (killed, reaped) before `net`

  three_host_network() {
    auto made = sim::host_network::create(three_hosts, fresh_tag());
    BOOST_REQUIRE_MESSAGE(made, (made ? "" : made.err().message));
    net = std::move(*made);
    for (const auto& h : three_hosts) {
      servers.push_back(std::make_unique<test::child_process>(
          "netns-nats-" + h.name,
          net->in(h.name, {nats_server, "-a", h.address, "-p", std::to_string(nats_port)})));
      BOOST_REQUIRE_MESSAGE(servers.back()->wait_for_line("Server is ready", 10s), servers.back()->output());
    }
  }
  ~three_host_network() { servers.clear(); }
};

bool can_run() {
  std::string why;
  if (sim::host_network::available(why) && ::access(nats_server, X_OK) == 0) return true;
  if (why.empty()) why = std::string("no ") + nats_server + " (apt-get install nats-server)";
  BOOST_ERROR("cannot make network namespaces here (tests and CI run as root): " << why);
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(host_network)

BOOST_AUTO_TEST_CASE(hosts_reach_each_other_and_the_client_reaches_every_host) {
  if (!can_run()) return;
  three_host_network hosts;
  auto& net = *hosts.net;
  BOOST_TEST(net.client_address() == "10.250.1.250");
  for (const auto& to : three_hosts) {
    BOOST_TEST(connects(net, "client", to.name), "client -> " << to.name);
    for (const auto& from : three_hosts)
      if (from.name != to.name) BOOST_TEST(connects(net, from.name, to.name), from.name << " -> " << to.name);
  }
}

BOOST_AUTO_TEST_CASE(partition_from_everyone_cuts_the_host_off_until_heal) {
  if (!can_run()) return;
  three_host_network hosts;
  auto& net = *hosts.net;
  BOOST_REQUIRE(!net.partition("a", {}, false));
  BOOST_TEST(contains(net.leftovers(), "nft table in " + net.namespace_of("a")));
  BOOST_TEST(!connects(net, "client", "a", dropped_after));
  BOOST_TEST(!connects(net, "b", "a", dropped_after));
  BOOST_TEST(!connects(net, "a", "c", dropped_after));
  BOOST_TEST(connects(net, "b", "c"), "the others still reach each other");

  BOOST_REQUIRE(!net.heal("a"));
  BOOST_TEST(!contains(net.leftovers(), "nft table in " + net.namespace_of("a")));
  BOOST_TEST(connects(net, "client", "a"));
  BOOST_TEST(connects(net, "b", "a"));
  BOOST_TEST(connects(net, "a", "c"));
}

BOOST_AUTO_TEST_CASE(partition_from_one_peer_leaves_the_client_and_other_peers_through) {
  if (!can_run()) return;
  three_host_network hosts;
  auto& net = *hosts.net;
  BOOST_REQUIRE(!net.partition("a", {"b"}, false));
  BOOST_TEST(!connects(net, "b", "a", dropped_after));
  BOOST_TEST(!connects(net, "a", "b", dropped_after));
  BOOST_TEST(connects(net, "client", "a"));
  BOOST_TEST(connects(net, "c", "a"));
  // Partitions add up: the client too now.
  BOOST_REQUIRE(!net.partition("a", {"client"}, false));
  BOOST_TEST(!connects(net, "client", "a", dropped_after));
  BOOST_TEST(connects(net, "c", "a"));
  BOOST_REQUIRE(!net.heal("a"));
  BOOST_TEST(connects(net, "b", "a"));
  BOOST_TEST(connects(net, "client", "a"));
}

BOOST_AUTO_TEST_CASE(one_way_partition_drops_what_the_host_hears_from_the_peer_but_not_what_it_sends) {
  if (!can_run()) return;
  three_host_network hosts;
  auto& net = *hosts.net;
  BOOST_REQUIRE(!net.partition("a", {"b"}, true));
  BOOST_TEST(!datagram_arrives(net, "b", "a", dropped_after), "b -> a is dropped at a's input");
  BOOST_TEST(datagram_arrives(net, "a", "b"), "a -> b still leaves and arrives");
  BOOST_TEST(!connects(net, "b", "a", dropped_after));
  BOOST_TEST(!connects(net, "a", "b", dropped_after), "a's SYN arrives, b's answer does not");
  BOOST_TEST(connects(net, "client", "a"));
  BOOST_REQUIRE(!net.heal("a"));
  BOOST_TEST(datagram_arrives(net, "b", "a"));
  BOOST_TEST(connects(net, "b", "a"));
}

BOOST_AUTO_TEST_CASE(link_down_cuts_the_host_off_and_heal_brings_it_back) {
  if (!can_run()) return;
  three_host_network hosts;
  auto& net = *hosts.net;
  BOOST_REQUIRE(!net.link_down("b"));
  BOOST_TEST(!connects(net, "client", "b", dropped_after));
  BOOST_TEST(!connects(net, "a", "b", dropped_after));
  BOOST_TEST(connects(net, "a", "c"));
  BOOST_REQUIRE(!net.heal("b"));
  BOOST_TEST(connects_again(net, "client", "b"));
  BOOST_TEST(connects_again(net, "a", "b"));
  BOOST_TEST(connects_again(net, "b", "c"));
}

BOOST_AUTO_TEST_CASE(destructor_leaves_no_namespace_and_no_rule_even_with_faults_in_force) {
  if (!can_run()) return;
  const std::string prefix = "namespace ";
  std::vector<std::string> names;  // every namespace it made, read before it goes
  {
    auto made = sim::host_network::create(three_hosts, fresh_tag());
    BOOST_REQUIRE_MESSAGE(made, (made ? "" : made.err().message));
    auto& net = **made;
    BOOST_REQUIRE(!net.partition("a", {}, false));
    BOOST_REQUIRE(!net.link_down("b"));
    for (const auto& m : net.made()) names.push_back(m.substr(prefix.size()));
    BOOST_TEST(names.size() == three_hosts.size() + 2, "the hosts', the client's and the bridge's");
    for (const auto& h : three_hosts) BOOST_TEST(contains(names, net.namespace_of(h.name)));
    BOOST_TEST(contains(names, net.namespace_of("client")));
    for (const auto& ns : names) BOOST_TEST(namespace_exists(ns), ns);
  }
  for (const auto& ns : names) BOOST_TEST(!namespace_exists(ns), ns);
}

BOOST_AUTO_TEST_CASE(tear_down_leaves_nothing_for_the_cleanup_check) {
  if (!can_run()) return;
  auto made = sim::host_network::create(three_hosts, fresh_tag());
  BOOST_REQUIRE_MESSAGE(made, (made ? "" : made.err().message));
  auto& net = **made;
  BOOST_REQUIRE(!net.partition("c", {"a"}, true));
  BOOST_TEST(net.leftovers().size() == net.made().size() + 1, "every namespace and c's table");
  BOOST_TEST(!net.tear_down());
  BOOST_TEST(net.leftovers().empty());
}

BOOST_AUTO_TEST_CASE(a_second_network_with_the_same_tag_is_refused_and_leaves_the_first_alone) {
  if (!can_run()) return;
  const auto tag = fresh_tag();
  auto first = sim::host_network::create(three_hosts, tag);
  BOOST_REQUIRE_MESSAGE(first, (first ? "" : first.err().message));
  auto second = sim::host_network::create(three_hosts, tag);
  BOOST_REQUIRE(!second);
  BOOST_TEST(second.err().message.find("File exists") != std::string::npos, second.err().message);
  BOOST_TEST((*first)->leftovers().size() == (*first)->made().size(), "all of the first's namespaces remain");
}

BOOST_AUTO_TEST_CASE(remove_all_deletes_what_a_dead_run_left_with_its_tag_only) {
  if (!can_run()) return;
  const auto tag = fresh_tag(), other_tag = tag + "9";  // "im<tag>-" is no prefix of "im<tag>9-"
  const std::vector<std::string> left = {"im" + tag + "-sw", "im" + tag + "-a", "im" + tag + "-client"};
  const std::string other = "im" + other_tag + "-a";
  struct removed_at_end {  // whatever the checks say, nothing of this case stays
    std::vector<std::string> tags;
    ~removed_at_end() {
      for (const auto& t : tags) sim::host_network::remove_all(t);
    }
  } guard{{tag, other_tag}};
  for (const auto& ns : std::vector<std::string>{left[0], left[1], left[2], other}) {
    test::child_process add("netns-add", {"/usr/sbin/ip", "netns", "add", ns});  // as a crashed run leaves them
    BOOST_REQUIRE_MESSAGE(add.wait_exit(10s) == 0, add.output());
  }
  auto removed = sim::host_network::remove_all(tag);
  BOOST_REQUIRE_MESSAGE(removed, (removed ? "" : removed.err().message));
  BOOST_TEST(removed->size() == left.size());
  BOOST_TEST(removed->back() == left[0], "the bridge's last");
  for (const auto& ns : left) BOOST_TEST(!namespace_exists(ns), ns);
  BOOST_TEST(namespace_exists(other), "another tag's namespace stays");
  auto none = sim::host_network::remove_all(tag);
  BOOST_TEST((none && none->empty()));
}

BOOST_AUTO_TEST_CASE(faults_name_unknown_hosts_and_peers) {
  if (!can_run()) return;
  auto made = sim::host_network::create(three_hosts, fresh_tag());
  BOOST_REQUIRE_MESSAGE(made, (made ? "" : made.err().message));
  auto& net = **made;
  auto e = net.partition("x", {}, false);
  BOOST_REQUIRE(e);
  BOOST_TEST(e->message.find("'x'") != std::string::npos, e->message);
  e = net.partition("a", {"y"}, false);
  BOOST_REQUIRE(e);
  BOOST_TEST(e->message.find("'y'") != std::string::npos, e->message);
  BOOST_TEST(net.link_down("z").has_value());
  BOOST_TEST(net.in("z", {"/bin/true"}).empty());
}

BOOST_AUTO_TEST_CASE(an_address_outside_the_first_hosts_24_is_refused_naming_the_host) {
  auto made = sim::host_network::create({{"a", "10.250.1.11"}, {"far", "10.250.2.12"}}, fresh_tag());
  BOOST_REQUIRE(!made);
  BOOST_TEST(to_string(made.err().code) == "bad_request");
  BOOST_TEST(made.err().message.find("'far'") != std::string::npos, made.err().message);
  BOOST_TEST(made.err().message.find("/24") != std::string::npos, made.err().message);
}

BOOST_AUTO_TEST_CASE(a_host_at_the_clients_address_is_refused_naming_the_host) {
  auto made = sim::host_network::create({{"a", "10.250.1.11"}, {"b", "10.250.1.250"}}, fresh_tag());
  BOOST_REQUIRE(!made);
  BOOST_TEST(made.err().message.find("'b'") != std::string::npos, made.err().message);
}

BOOST_AUTO_TEST_CASE(bad_host_names_and_addresses_are_refused_naming_the_host) {
  const std::vector<std::vector<sim::network_host>> bad = {
      {{"Web_1", "10.250.1.11"}},                            // only [a-z0-9-]
      {{"client", "10.250.1.11"}},                           // reserved: the client's namespace
      {{"sw", "10.250.1.11"}},                               // reserved: the bridge's namespace
      {{"a", "10.250.1.11"}, {"a", "10.250.1.12"}},          // named twice
      {{"a", "10.250.1.11"}, {"b", "10.250.1.11"}},          // address twice
      {{"v6", "fd00::1"}},                                   // IPv4 only
  };
  for (const auto& hosts : bad) {
    auto made = sim::host_network::create(hosts, fresh_tag());
    BOOST_REQUIRE(!made);
    BOOST_TEST(made.err().message.find("'" + hosts.back().name + "'") != std::string::npos, made.err().message);
  }
  BOOST_TEST(!sim::host_network::create(three_hosts, "Bad-Tag"));
  BOOST_TEST(!sim::host_network::create(three_hosts, "averyveryverylongtag"), "veth names over 15 characters");
  BOOST_TEST(!sim::host_network::create({}, fresh_tag()));
}

BOOST_AUTO_TEST_SUITE_END()
