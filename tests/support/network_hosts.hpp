#pragma once
/// Hosts for one test as Linux network namespaces (notes/cluster.md): `count` namespaces with one address
/// each (10.250.0.11, .12, ...) on a bridge that itself lives in a namespace of the test's own, so nothing is
/// added to the machine's network namespace and no traffic leaves these namespaces. Needs root (tests and CI
/// run as root); `available()` says whether it can be used here. The destructor deletes every namespace
/// (processes started in them must be stopped first: the owner stops them by PID).

#include <string>
#include <vector>

namespace infermesh::test {

class network_hosts {
 public:
  /// Whether this process may make namespaces (root, `ip` installed); `why` says why not.
  static bool available(std::string& why);

  explicit network_hosts(int count);
  ~network_hosts();
  network_hosts(const network_hosts&) = delete;
  network_hosts& operator=(const network_hosts&) = delete;

  int size() const { return static_cast<int>(hosts_.size()); }
  /// Host i's namespace name and address (i from 0).
  const std::string& ns(int i) const { return hosts_.at(static_cast<std::size_t>(i)); }
  std::string address(int i) const { return "10.250.0." + std::to_string(11 + i); }
  /// `argv` run inside host i (`ip netns exec NS argv...`: the same pid once it execs).
  std::vector<std::string> in(int i, const std::vector<std::string>& argv) const;

 private:
  std::string switch_;
  std::vector<std::string> hosts_;
};

}  // namespace infermesh::test
