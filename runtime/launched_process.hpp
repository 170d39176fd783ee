#pragma once
/// A process `infermesh cluster` starts (a nats-server or an `infermesh node`): forked from the launcher's
/// single thread, with stdout and stderr on one pipe whose lines go to the process's own log file and to the
/// launcher's stdout, prefixed with its name (`node-a | ...`). The child gets SIGTERM if the launcher dies
/// (PR_SET_PDEATHSIG), so a killed launcher leaves nothing behind to be started twice. Not thread-safe.

#include <sys/types.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "messages/outcome.hpp"

namespace infermesh {

class launched_process {
 public:
  /// `argv[0]` is the binary; output lines are appended to `log_path` (created with its folder).
  launched_process(std::string name, std::vector<std::string> argv, std::string log_path);
  ~launched_process();
  launched_process(launched_process&&) = delete;

  /// Starts it (it must not be running). The error names the process and why.
  std::optional<error> start();
  /// The running process, or -1.
  pid_t pid() const { return pid_; }
  /// The read end of its output pipe (poll it), or -1.
  int output_fd() const { return out_; }
  /// Moves what its pipe holds now into the log file and stdout (complete lines; never blocks).
  void pump();
  /// It exited (waitpid reaped it): the rest of its output is written, the pipe closed.
  void exited();
  /// Sends `signal` when it runs.
  void signal(int signal) const;
  /// Waits (at most `timeout`) until every output line so far is on stdout (written from its own thread, through
  /// a bounded queue: a stalled stdout drops lines rather than stop the launcher; log files keep them all).
  static void flush_stdout(std::chrono::milliseconds timeout);

  const std::string& name() const { return name_; }
  const std::string& log_path() const { return log_path_; }

 private:
  void write_line(const std::string& line);

  std::string name_;
  std::vector<std::string> argv_;
  std::string log_path_;
  std::ofstream log_;
  pid_t pid_ = -1;
  int out_ = -1;
  std::string partial_;  // an output line not ended yet
};

}  // namespace infermesh
