#include "simulator/host_network.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

extern char** environ;

namespace infermesh::sim {
namespace {

/// How long one `ip` or `nft` command may take before it is killed (they take milliseconds; a hang is a bug).
constexpr auto command_timeout = std::chrono::seconds(10);
/// The last octet of the client namespace's address in the hosts' /24.
constexpr int client_octet = 250;
/// Linux's limit on an interface name (IFNAMSIZ - 1).
constexpr std::size_t max_interface_name = 15;
/// The nftables table a partition puts into a host's namespace.
constexpr const char* table_name = "infermesh_sim";
/// The host side of each host's veth, inside the host's own namespace (so no two hosts' names can clash).
constexpr const char* host_interface = "eth0";

std::string find_binary(std::initializer_list<const char*> candidates) {
  for (const char* candidate : candidates)
    if (::access(candidate, X_OK) == 0) return candidate;
  return "";
}

std::string ip_binary() { return find_binary({"/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"}); }
std::string nft_binary() { return find_binary({"/usr/sbin/nft", "/sbin/nft", "/usr/bin/nft", "/bin/nft"}); }

std::string joined(const std::vector<std::string>& argv) {
  std::string line;
  for (const auto& a : argv) line += (line.empty() ? "" : " ") + a;
  return line;
}

struct command_result {
  int status = -1;  ///< exit code, 128 + signal, or -1 when it could not start
  std::string out;
  std::string err;
};

/// Runs `argv` (argv[0] an absolute path; no shell) with `input` on its stdin; waits at most `command_timeout`,
/// then kills it. stdin is a socket so that a child exiting early cannot raise SIGPIPE here.
command_result run(const std::vector<std::string>& argv, const std::string& input = "") {
  command_result result;
  int in[2], out[2], err[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in) != 0) return result.err = std::strerror(errno), result;
  if (::pipe2(out, O_CLOEXEC) != 0) {
    result.err = std::strerror(errno);
    ::close(in[0]), ::close(in[1]);
    return result;
  }
  if (::pipe2(err, O_CLOEXEC) != 0) {
    result.err = std::strerror(errno);
    ::close(in[0]), ::close(in[1]), ::close(out[0]), ::close(out[1]);
    return result;
  }
  std::vector<char*> raw;
  for (const auto& a : argv) raw.push_back(const_cast<char*>(a.c_str()));
  raw.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {  // only async-signal-safe calls until exec
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(in[1], STDIN_FILENO);
    ::dup2(out[1], STDOUT_FILENO);
    ::dup2(err[1], STDERR_FILENO);
    ::execve(raw[0], raw.data(), environ);
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(in[1]), ::close(out[1]), ::close(err[1]);
  if (pid < 0) {
    ::close(in[0]), ::close(out[0]), ::close(err[0]);
    result.err = std::string("fork: ") + std::strerror(fork_errno);
    return result;
  }

  const auto deadline = std::chrono::steady_clock::now() + command_timeout;
  std::size_t written = 0;
  int in_fd = in[0];
  if (input.empty()) ::shutdown(in_fd, SHUT_WR);
  bool out_open = true, err_open = true, timed_out = false;
  while (out_open || err_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {in_fd, POLLOUT, 0}};
    if (!out_open) fds[0].fd = -1;
    if (!err_open) fds[1].fd = -1;
    if (in_fd < 0 || written == input.size()) fds[2].fd = -1;
    const int n = ::poll(fds, 3, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    char buffer[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t got = ::read(fds[i].fd, buffer, sizeof buffer);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        (i == 0 ? out_open : err_open) = false;
        continue;
      }
      (i == 0 ? result.out : result.err).append(buffer, static_cast<std::size_t>(got));
    }
    if (fds[2].fd >= 0 && fds[2].revents != 0) {
      const ssize_t sent = ::send(in_fd, input.data() + written, input.size() - written, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (sent > 0) written += static_cast<std::size_t>(sent);
      if (sent < 0 && errno != EAGAIN && errno != EINTR) written = input.size();  // the child stopped reading
      if (written == input.size()) ::shutdown(in_fd, SHUT_WR);
    }
  }
  ::close(in_fd), ::close(out[0]), ::close(err[0]);
  if (timed_out) ::kill(pid, SIGKILL);
  int status = 0;
  // Its pipes are closed (it exited) or it was killed: the wait is short either way, but still bounded.
  for (;;) {
    const pid_t done = ::waitpid(pid, &status, timed_out ? 0 : WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) return result;
    if (done == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid, SIGKILL);
        timed_out = true;
      } else {
        ::usleep(1000);
      }
    }
  }
  result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  if (timed_out) result.err += (result.err.empty() ? "" : "; ") + std::string("killed after 10 s");
  return result;
}

/// The error for a failed command: what ran and what it said on stderr.
error failed(const std::vector<std::string>& argv, const command_result& r) {
  std::string said = r.err.empty() ? r.out : r.err;
  while (!said.empty() && (said.back() == '\n' || said.back() == ' ')) said.pop_back();
  return error{error_code::internal, "`" + joined(argv) + "` failed (status " + std::to_string(r.status) + ")" +
                                         (said.empty() ? "" : ": " + said)};
}

bool valid_name(const std::string& s) {
  if (s.empty() || s.size() > 63 || s.front() == '-') return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return true;
}

bool valid_tag(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  return true;
}

bool exists(const std::string& ns) { return ::access(("/run/netns/" + ns).c_str(), F_OK) == 0; }

}  // namespace

struct host_network::impl {
  struct host {
    std::string name, address, ns, port;  // port: its veth's end in the bridge namespace
    std::set<std::string> drop_in, drop_out;  // peers' addresses the host's table drops
    bool link_down = false;
  };

  std::string ip, nft, tag, switch_ns, client_ns, client_addr, client_port;
  std::vector<host> hosts;
  std::vector<std::string> made;  // namespaces this object added, in order (the bridge's first)

  host* find(const std::string& name) {
    for (auto& h : hosts)
      if (h.name == name) return &h;
    return nullptr;
  }

  std::optional<error> ip_cmd(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{ip};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(argv);
    if (r.status != 0) return failed(argv, r);
    return std::nullopt;
  }

  std::vector<std::string> nft_in(const std::string& ns, const std::vector<std::string>& args) const {
    std::vector<std::string> argv{ip, "netns", "exec", ns, nft};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  bool has_table(const std::string& ns) const {
    return exists(ns) && run(nft_in(ns, {"list", "table", "inet", table_name})).status == 0;
  }

  /// Replaces the host's table with one dropping its current peer sets, in one nft transaction; removes it when
  /// both sets are empty.
  std::optional<error> apply_rules(const host& h) const {
    if (h.drop_in.empty() && h.drop_out.empty()) {
      if (!has_table(h.ns)) return std::nullopt;
      const auto argv = nft_in(h.ns, {"delete", "table", "inet", table_name});
      const auto r = run(argv);
      if (r.status != 0) return failed(argv, r);
      return std::nullopt;
    }
    auto set = [](const std::set<std::string>& addresses) {
      std::string s;
      for (const auto& a : addresses) s += (s.empty() ? "" : ", ") + a;
      return "{ " + s + " }";
    };
    const std::string table = std::string("inet ") + table_name;
    // `add` then `delete` then the definition: replaces a table that may or may not exist, atomically.
    std::string rules = "add table " + table + "\ndelete table " + table + "\ntable " + table + " {\n";
    rules += "  chain input {\n    type filter hook input priority 0; policy accept;\n";
    if (!h.drop_in.empty()) rules += "    ip saddr " + set(h.drop_in) + " drop\n";
    rules += "  }\n  chain output {\n    type filter hook output priority 0; policy accept;\n";
    if (!h.drop_out.empty()) rules += "    ip daddr " + set(h.drop_out) + " drop\n";
    rules += "  }\n}\n";
    const auto argv = nft_in(h.ns, {"-f", "-"});
    const auto r = run(argv, rules);
    if (r.status != 0) return failed(argv, r);
    return std::nullopt;
  }

  std::optional<error> heal(host& h) {
    std::optional<error> first;
    h.drop_in.clear();
    h.drop_out.clear();
    if (exists(h.ns)) {
      if (auto e = apply_rules(h)) first = e;
      if (auto e = ip_cmd({"-n", h.ns, "link", "set", host_interface, "up"}); e && !first) first = e;
      if (h.link_down && !first) wait_until_up(h);
    }
    if (!first) h.link_down = false;
    return first;
  }

  /// A link set up again carries traffic only once both ends report LOWER_UP (the veth's carrier): heal returns
  /// then, so what follows a heal sees the host reachable (at most 3 s).
  void wait_until_up(const host& h) const {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (std::chrono::steady_clock::now() < deadline) {
      const auto r = run({ip_binary(), "-n", h.ns, "link", "show", host_interface});
      if (r.status == 0 && r.out.find("LOWER_UP") != std::string::npos && r.out.find("state UP") != std::string::npos) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /// Heals every host and deletes every namespace, the bridge's last; the first error, having tried everything.
  std::optional<error> tear_down() {
    std::optional<error> first;
    for (auto& h : hosts)
      if (auto e = heal(h); e && !first) first = e;
    for (auto it = made.rbegin(); it != made.rend(); ++it)
      if (exists(*it))
        if (auto e = ip_cmd({"netns", "delete", *it}); e && !first) first = e;
    return first;
  }

  /// Adds a namespace with lo up, remembering it for the teardown.
  std::optional<error> add_namespace(const std::string& ns) {
    if (auto e = ip_cmd({"netns", "add", ns})) return e;
    made.push_back(ns);
    return ip_cmd({"-n", ns, "link", "set", "lo", "up"});
  }

  /// A namespace on the bridge through a veth (`port` in the bridge namespace, eth0 in `ns`) with `address`/24.
  std::optional<error> attach(const std::string& ns, const std::string& port, const std::string& address) {
    if (auto e = add_namespace(ns)) return e;
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"-n", switch_ns, "link", "add", port, "type", "veth", "peer", "name", host_interface, "netns", ns},
             {"-n", switch_ns, "link", "set", port, "master", "br0", "up"},
             {"-n", ns, "addr", "add", address + "/24", "dev", host_interface},
             {"-n", ns, "link", "set", host_interface, "up"}})
      if (auto e = ip_cmd(args)) return e;
    return std::nullopt;
  }
};

bool host_network::available(std::string& why) {
  if (::geteuid() != 0) return why = "not root: network namespaces need root", false;
  if (ip_binary().empty()) return why = "no `ip` binary (apt-get install iproute2)", false;
  if (nft_binary().empty()) return why = "no `nft` binary (apt-get install nftables)", false;
  return true;
}

outcome<std::unique_ptr<host_network>> host_network::create(const std::vector<network_host>& hosts,
                                                             const std::string& tag) {
  auto bad = [](std::string message) { return error{error_code::bad_request, std::move(message)}; };
  if (!valid_tag(tag)) return bad("host network: tag '" + tag + "' must be [a-z0-9]+");
  if (hosts.empty()) return bad("host network: no hosts");
  const std::string port_prefix = "im" + tag + "v";
  if (port_prefix.size() + std::to_string(hosts.size()).size() > max_interface_name)
    return bad("host network: tag '" + tag + "' too long for interface names (" + port_prefix + "N over " +
               std::to_string(max_interface_name) + " characters)");

  auto p = std::make_unique<impl>();
  p->tag = tag;
  p->switch_ns = "im" + tag + "-sw";
  p->client_ns = "im" + tag + "-client";
  p->client_port = port_prefix + "0";
  std::string prefix;  // the first three octets, with the trailing dot
  std::set<std::string> addresses;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const auto& h = hosts[i];
    if (!valid_name(h.name)) return bad("host '" + h.name + "': a name is [a-z0-9-] (1 to 63, not starting with '-')");
    if (h.name == "sw" || h.name == "client")
      return bad("host '" + h.name + "': the name is reserved (the bridge's and the client's namespaces)");
    if (p->find(h.name)) return bad("host '" + h.name + "': named twice");
    in_addr parsed{};
    if (::inet_pton(AF_INET, h.address.c_str(), &parsed) != 1)
      return bad("host '" + h.name + "': address '" + h.address + "' is not an IPv4 address");
    const auto a = reinterpret_cast<const unsigned char*>(&parsed.s_addr);
    const std::string canonical = std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + ".";
    const int last = a[3];
    if (prefix.empty()) prefix = canonical;
    if (canonical != prefix)
      return bad("host '" + h.name + "': address " + h.address + " is outside " + prefix + "0/24 (of host '" +
                 hosts[0].name + "'): all hosts share one /24");
    if (last == client_octet)
      return bad("host '" + h.name + "': address " + h.address + " is the client's (." + std::to_string(client_octet) +
                 " of the /24)");
    if (last == 0 || last == 255)
      return bad("host '" + h.name + "': address " + h.address + " is the /24's network or broadcast address");
    if (!addresses.insert(h.address).second) return bad("host '" + h.name + "': address " + h.address + " used twice");
    impl::host entry;
    entry.name = h.name;
    entry.address = h.address;
    entry.ns = "im" + tag + "-" + h.name;
    entry.port = port_prefix + std::to_string(i + 1);
    p->hosts.push_back(std::move(entry));
  }
  p->client_addr = prefix + std::to_string(client_octet);

  std::string why;
  if (!available(why)) return error{error_code::unavailable, "host network: " + why};
  p->ip = ip_binary();
  p->nft = nft_binary();

  auto built = [&]() -> std::optional<error> {
    if (auto e = p->add_namespace(p->switch_ns)) return e;
    if (auto e = p->ip_cmd({"-n", p->switch_ns, "link", "add", "br0", "type", "bridge"})) return e;
    if (auto e = p->ip_cmd({"-n", p->switch_ns, "link", "set", "br0", "up"})) return e;
    for (const auto& h : p->hosts)
      if (auto e = p->attach(h.ns, h.port, h.address))
        return error{e->code, "host '" + h.name + "': " + e->message};
    if (auto e = p->attach(p->client_ns, p->client_port, p->client_addr))
      return error{e->code, "client: " + e->message};
    return std::nullopt;
  }();
  if (built) {
    p->tear_down();
    return *built;
  }
  return std::unique_ptr<host_network>(new host_network(std::move(p)));
}

outcome<std::vector<std::string>> host_network::remove_all(const std::string& tag) {
  if (!valid_tag(tag)) return error{error_code::bad_request, "host network: tag '" + tag + "' must be [a-z0-9]+"};
  std::string why;
  if (!available(why)) return error{error_code::unavailable, "host network: " + why};
  // The tag has no '-', so this prefix matches this tag's namespaces only ("im1-" is not a prefix of "im12-a").
  const std::string prefix = "im" + tag + "-", bridge = prefix + "sw";
  std::vector<std::string> found;
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/run/netns", ec), end; !ec && it != end; it.increment(ec)) {
    const auto name = it->path().filename().string();
    if (name.compare(0, prefix.size(), prefix) == 0) found.push_back(name);
  }
  std::stable_partition(found.begin(), found.end(), [&](const std::string& n) { return n != bridge; });
  std::vector<std::string> removed;
  for (const auto& ns : found) {
    const std::vector<std::string> argv{ip_binary(), "netns", "delete", ns};
    const auto r = run(argv);
    if (r.status != 0 && exists(ns)) return failed(argv, r);
    removed.push_back(ns);
  }
  return removed;
}

host_network::host_network(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

host_network::~host_network() {
  try {
    impl_->tear_down();
  } catch (...) {  // never throws: a destructor (std::bad_alloc at worst)
  }
}

std::optional<error> host_network::tear_down() { return impl_->tear_down(); }

std::vector<std::string> host_network::in(const std::string& host, const std::vector<std::string>& argv) const {
  std::string ns;
  if (host == "client") {
    ns = impl_->client_ns;
  } else if (auto* h = impl_->find(host)) {
    ns = h->ns;
  } else {
    return {};
  }
  std::vector<std::string> out{impl_->ip, "netns", "exec", ns};
  out.insert(out.end(), argv.begin(), argv.end());
  return out;
}

std::optional<error> host_network::enter_client() {
  const std::string path = "/run/netns/" + impl_->client_ns;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return error{error_code::internal, "cannot open " + path + ": " + std::strerror(errno)};
  const int rc = ::setns(fd, CLONE_NEWNET);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) return error{error_code::internal, "setns(" + path + "): " + std::strerror(saved)};
  return std::nullopt;
}

std::string host_network::client_address() const { return impl_->client_addr; }

std::string host_network::address(const std::string& host) const {
  if (host == "client") return impl_->client_addr;
  auto* h = impl_->find(host);
  return h ? h->address : "";
}

std::string host_network::namespace_of(const std::string& host) const {
  if (host == "client") return impl_->client_ns;
  auto* h = impl_->find(host);
  return h ? h->ns : "";
}

std::optional<error> host_network::partition(const std::string& host, const std::vector<std::string>& peers,
                                             bool one_way) {
  auto* h = impl_->find(host);
  if (!h) return error{error_code::bad_request, "partition: no host '" + host + "'"};
  std::vector<std::string> addresses;
  if (peers.empty()) {
    for (const auto& other : impl_->hosts)
      if (other.name != host) addresses.push_back(other.address);
    addresses.push_back(impl_->client_addr);
  }
  for (const auto& peer : peers) {
    if (peer == host) return error{error_code::bad_request, "partition: host '" + host + "' cannot be its own peer"};
    if (peer == "client") {
      addresses.push_back(impl_->client_addr);
    } else if (auto* other = impl_->find(peer)) {
      addresses.push_back(other->address);
    } else {
      return error{error_code::bad_request, "partition of host '" + host + "': no peer '" + peer + "'"};
    }
  }
  auto next = *h;
  for (const auto& a : addresses) {
    next.drop_in.insert(a);
    if (!one_way) next.drop_out.insert(a);
  }
  if (auto e = impl_->apply_rules(next)) return error{e->code, "partition of host '" + host + "': " + e->message};
  h->drop_in = std::move(next.drop_in);
  h->drop_out = std::move(next.drop_out);
  return std::nullopt;
}

std::optional<error> host_network::link_down(const std::string& host) {
  auto* h = impl_->find(host);
  if (!h) return error{error_code::bad_request, "link_down: no host '" + host + "'"};
  if (auto e = impl_->ip_cmd({"-n", h->ns, "link", "set", host_interface, "down"}))
    return error{e->code, "link_down of host '" + host + "': " + e->message};
  h->link_down = true;
  return std::nullopt;
}

std::optional<error> host_network::heal(const std::string& host) {
  auto* h = impl_->find(host);
  if (!h) return error{error_code::bad_request, "heal: no host '" + host + "'"};
  if (auto e = impl_->heal(*h)) return error{e->code, "heal of host '" + host + "': " + e->message};
  return std::nullopt;
}

std::vector<std::string> host_network::leftovers() const {
  std::vector<std::string> out;
  for (const auto& ns : impl_->made)
    if (exists(ns)) out.push_back("namespace " + ns);
  for (const auto& h : impl_->hosts)
    if (impl_->has_table(h.ns)) out.push_back("nft table in " + h.ns);
  return out;
}

std::vector<std::string> host_network::made() const {
  std::vector<std::string> out;
  for (const auto& ns : impl_->made) out.push_back("namespace " + ns);
  return out;
}

}  // namespace infermesh::sim
