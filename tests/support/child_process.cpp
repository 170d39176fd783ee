#include "support/child_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>

extern char** environ;

namespace infermesh::test {

child_process::child_process(const std::string& name, const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe2 failed");
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_ = ::fork();
  if (pid_ == 0) {
    // The child dies with the test binary even when it crashes before its destructors run (no strays).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(fds[1], STDOUT_FILENO);
    ::dup2(fds[1], STDERR_FILENO);
    ::execve(args[0], args.data(), environ);
    ::_exit(127);
  }
  const int rc = pid_ < 0 ? errno : 0;
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  std::filesystem::create_directories("test-logs");
  log_path_ = "test-logs/" + name + "-" + std::to_string(pid_) + ".log";
  reader_ = std::thread([this, fd = fds[0]] { read_loop(fd); });
}

child_process::~child_process() {
  if (!exit_status_) {
    ::kill(pid_, SIGKILL);
    wait_exit(std::chrono::seconds(10));
  }
  if (reader_.joinable()) reader_.join();
}

void child_process::read_loop(int fd) {
  std::ofstream log(log_path_);
  std::string pending;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    log.write(buffer, n);
    log.flush();
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline;
    std::lock_guard<std::mutex> guard(mutex_);
    while ((newline = pending.find('\n')) != std::string::npos) {
      lines_.push_back(pending.substr(0, newline));
      pending.erase(0, newline + 1);
    }
    changed_.notify_all();
  }
  ::close(fd);
  std::lock_guard<std::mutex> guard(mutex_);
  if (!pending.empty()) lines_.push_back(pending);
  eof_ = true;
  changed_.notify_all();
}

bool child_process::wait_for_line(const std::string& text, std::chrono::milliseconds timeout) {
  return wait_for_lines(text, 1, timeout);
}

bool child_process::wait_for_lines(const std::string& text, std::size_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  std::size_t seen = 0, found = 0;
  changed_.wait_for(lock, timeout, [&] {
    for (; seen < lines_.size(); ++seen)
      if (lines_[seen].find(text) != std::string::npos && ++found >= count) return true;
    return eof_;
  });
  return found >= count;
}

void child_process::signal(int signal) {
  if (!exit_status_) ::kill(pid_, signal);
}

std::optional<int> child_process::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_status_) return exit_status_;
  // The reader sees end-of-file when the child exits (our processes never close their output early): wait on
  // that with a bound, then reap.
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (!changed_.wait_for(lock, timeout, [&] { return eof_; })) return std::nullopt;
  }
  int status = 0;
  if (::waitpid(pid_, &status, 0) != pid_) return std::nullopt;
  exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_status_;
}

std::string child_process::output() const {
  std::lock_guard<std::mutex> guard(mutex_);
  std::string all;
  for (const auto& l : lines_) all += l + "\n";
  return all;
}

}  // namespace infermesh::test
