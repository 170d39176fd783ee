#pragma once
/// The hosts of a cluster file as Linux network namespaces on this machine (`cluster: {hosts: namespaces}`), and
/// the network faults between them (notes/cluster.md "hosts as network namespaces"). Needs root and `ip`,
/// `nft` (nftables).
///
/// Layout: one namespace per host (`im<tag>-<host>`) with the host's `address` from the cluster file (all in
/// one /24) on a veth to a bridge that lives in a namespace of its own (`im<tag>-sw`), plus a client namespace
/// (`im<tag>-client`, address .250 of that /24) for the simulator's own connections (the workload, discovery,
/// the independent counter): `enter_client()` moves the calling thread into it, so call it on the main thread
/// before any other thread starts. Nothing is added to the machine's own namespace; no traffic leaves these.
///
/// Faults: `partition` puts an nftables table `inet infermesh_sim` into the host's namespace that drops traffic
/// to and from the given peers' addresses (only inbound with one_way: the host still sends, hears nothing back
/// from them — so TCP the host opens to them fails too, their answers being dropped; datagrams still arrive
/// there); `link_down` sets the host's end of its veth (`eth0` in its namespace) down. `heal` undoes both for
/// that host. The destructor heals everything and deletes every namespace (the processes in them must be
/// stopped first, by PID: the owner's job).
/// `leftovers()` lists what of this object's namespaces and rules still exists (the report's cleanup check).
/// Host names are [a-z0-9-] ("sw" and "client" are reserved); `tag` is [a-z0-9] and short enough for the
/// bridge-side veth names (`im<tag>v<i>`, at most 15 characters). Every `ip`/`nft` command is run without a
/// shell and killed after 10 s; errors carry the command and its stderr.
/// Not thread-safe: one owner thread.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "messages/outcome.hpp"

namespace infermesh::sim {

/// One host of the cluster file: its name and address.
struct network_host {
  std::string name;
  std::string address;  ///< IPv4, e.g. 10.250.1.11
};

/// The namespaces of one run, and the faults between them.
class host_network {
 public:
  /// Whether namespaces can be made here (root, `ip` and `nft` installed); `why` says what is missing.
  static bool available(std::string& why);
  /// Makes the namespaces; `tag` keeps two runs apart (the simulator uses its pid). Errors name the host.
  static outcome<std::unique_ptr<host_network>> create(const std::vector<network_host>& hosts, const std::string& tag);
  /// Deletes every namespace named `im<tag>-*` (the bridge's last): what a run with this tag left when it died
  /// before its destructor ran. Returns what it deleted; an error names the namespace it could not delete.
  static outcome<std::vector<std::string>> remove_all(const std::string& tag);
  ~host_network();
  host_network(const host_network&) = delete;
  host_network& operator=(const host_network&) = delete;

  /// `argv` run inside `host`'s namespace (`ip netns exec NS argv...`: the same pid once it execs); `host` may
  /// also be "client"; empty for an unknown host. argv[0] should be an absolute path (`ip` looks it up in PATH).
  std::vector<std::string> in(const std::string& host, const std::vector<std::string>& argv) const;
  /// `host`'s address ("client": the client's); empty for an unknown host.
  std::string address(const std::string& host) const;
  /// `host`'s namespace name (`im<tag>-<host>`; "client": the client's); empty for an unknown host.
  std::string namespace_of(const std::string& host) const;
  /// Moves the calling thread into the client namespace (threads it starts later inherit it). The thread stays
  /// there after the destructor: the namespace then has no name but lives until the thread ends.
  std::optional<error> enter_client();
  /// The client namespace's address (.250 of the hosts' /24).
  std::string client_address() const;

  /// Drops traffic between `host` and each of `peers` (host names or "client"; empty: every other host and the
  /// client). Partitions add up until `heal`.
  std::optional<error> partition(const std::string& host, const std::vector<std::string>& peers, bool one_way);
  /// Sets `host`'s link down: it reaches nothing and nothing reaches it.
  std::optional<error> link_down(const std::string& host);
  /// Undoes every fault on `host`.
  std::optional<error> heal(const std::string& host);
  /// What still exists of this object's namespaces and rules ("namespace imX-a", "nft table in imX-a").
  std::vector<std::string> leftovers() const;
  /// What the destructor does, with its first error (having tried everything); `leftovers()` is then empty
  /// unless it failed. Call it after stopping the processes, for the report's cleanup check.
  std::optional<error> tear_down();
  /// Everything it made, for the cleanup check ("namespace imX-a", ...).
  std::vector<std::string> made() const;

  struct impl;
 private:
  explicit host_network(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

}  // namespace infermesh::sim
