#pragma once
/// What /proc says of a process's children (tests of the page-render child): who they are, what they hold,
/// whether they are gone. Linux only; header-only.

#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace infermesh::test {

/// The children of `parent` whose name (the kernel's 15-character `comm`) starts like `name`.
inline std::vector<pid_t> children_named(pid_t parent, const std::string& name) {
  std::vector<pid_t> out;
  const std::string comm = "(" + name.substr(0, 15);
  std::error_code ec;
  for (const auto& proc : std::filesystem::directory_iterator("/proc", ec)) {
    std::ifstream stat(proc.path() / "stat");
    std::string line;
    if (!std::getline(stat, line) || line.find(comm) == std::string::npos) continue;
    std::istringstream fields(line.substr(line.rfind(')') + 2));
    std::string state;
    pid_t ppid = 0;
    fields >> state >> ppid;
    if (ppid == parent) out.push_back(static_cast<pid_t>(std::stol(proc.path().filename().string())));
  }
  return out;
}

/// The descriptors `pid` holds open ("0", "1", ...); empty when it is gone.
inline std::vector<std::string> open_fds(pid_t pid) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
    out.push_back(fd.path().filename());
  return out;
}

/// Whether `pid` has exited (gone, or dead and not yet reaped).
inline bool exited(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  return !std::getline(stat, line) || line.find(") Z") != std::string::npos;
}

}  // namespace infermesh::test
