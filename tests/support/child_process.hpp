#pragma once
/// A child process for tests: started with fork/exec (and killed by the kernel if the test binary dies first), its stdout and stderr captured line by line (kept in
/// memory and copied to a log file under the build tree), stopped by PID. The destructor always kills and
/// reaps it, so no test leaves a process behind.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/types.h>

namespace infermesh::test {

class child_process {
 public:
  /// Starts `argv[0]` with `argv`; `name` labels its log file.
  child_process(const std::string& name, const std::vector<std::string>& argv);
  ~child_process();
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  /// Waits until a line containing `text` was printed; false after `timeout` or when the process exited first.
  bool wait_for_line(const std::string& text, std::chrono::milliseconds timeout);
  /// Waits until `count` lines containing `text` were printed; false after `timeout` or at exit.
  bool wait_for_lines(const std::string& text, std::size_t count, std::chrono::milliseconds timeout);
  /// Sends `signal` (SIGTERM, SIGKILL, ...).
  void signal(int signal);
  /// Waits for the exit status (the exit code, or 128 + signal); nullopt after `timeout`.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  /// Everything printed so far.
  std::string output() const;
  pid_t pid() const { return pid_; }

 private:
  void read_loop(int fd);

  pid_t pid_ = -1;
  std::optional<int> exit_status_;
  std::string log_path_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool eof_ = false;
  std::thread reader_;
};

}  // namespace infermesh::test
