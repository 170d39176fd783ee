#include "support/launched.hpp"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <regex>

namespace infermesh::test {

pid_t newest_pid(const child_process& launcher, const std::string& name) {
  const std::string out = launcher.output();
  const std::regex started("'" + name + "' (re)?started, pid (\\d+)");
  pid_t pid = -1;
  for (std::sregex_iterator it(out.begin(), out.end(), started), end; it != end; ++it) pid = std::stoi((*it)[2]);
  return pid;
}

bool ends_within(pid_t pid, std::chrono::milliseconds timeout) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone
  pollfd p{fd, POLLIN, 0};
  const bool exited = ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
  ::close(fd);
  return exited;
}

}  // namespace infermesh::test
