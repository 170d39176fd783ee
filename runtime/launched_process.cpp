#include "runtime/launched_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>

extern char** environ;

namespace infermesh {

launched_process::launched_process(std::string name, std::vector<std::string> argv, std::string log_path)
    : name_(std::move(name)), argv_(std::move(argv)), log_path_(std::move(log_path)) {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(log_path_).parent_path(), ignored);
  log_.open(log_path_, std::ios::app);
}

launched_process::~launched_process() {
  if (out_ >= 0) close(out_);
}

std::optional<error> launched_process::start() {
  if (!log_) return error{error_code::internal, name_ + ": cannot write its log file " + log_path_};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return error{error_code::internal, name_ + ": no pipe: " + std::strerror(errno)};
  std::vector<char*> argv;
  for (auto& a : argv_) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls until exec.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(127);  // the launcher died before prctl took effect
    dup2(fds[1], STDOUT_FILENO);
    dup2(fds[1], STDERR_FILENO);
    const int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) dup2(devnull, STDIN_FILENO);
    sigset_t none;
    sigemptyset(&none);
    pthread_sigmask(SIG_SETMASK, &none, nullptr);  // the child handles its own signals
    execve(argv[0], argv.data(), environ);
    _exit(127);
  }
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    return error{error_code::internal, name_ + ": cannot start " + argv_.front() + ": " + std::strerror(errno)};
  }
  fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
  pid_ = pid;
  out_ = fds[0];
  return std::nullopt;
}

void launched_process::write_line(const std::string& line) {
  log_ << line << '\n';
  std::cout << name_ << " | " << line << '\n';
}

void launched_process::pump() {
  if (out_ < 0) return;
  char buffer[16384];
  for (;;) {
    const ssize_t n = read(out_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: all read for now; 0: every writer closed it
    partial_.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t end; (end = partial_.find('\n', start)) != std::string::npos; start = end + 1)
      write_line(partial_.substr(start, end - start));
    partial_.erase(0, start);
    if (partial_.size() > 65536) {  // a runaway line: cut it rather than hold it
      write_line(partial_);
      partial_.clear();
    }
  }
  log_.flush();
  std::cout.flush();
}

void launched_process::exited() {
  pump();
  if (!partial_.empty()) write_line(partial_);
  partial_.clear();
  log_.flush();
  std::cout.flush();
  if (out_ >= 0) close(out_);
  out_ = -1;
  pid_ = -1;
}

void launched_process::signal(int signal) const {
  if (pid_ > 0) kill(pid_, signal);
}

}  // namespace infermesh
