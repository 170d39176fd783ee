#include "runtime/launched_process.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <csignal>
#include <cstring>
#include <deque>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <thread>

extern char** environ;

namespace infermesh {
namespace {

/// The launcher's stdout, written from a thread of its own through a bounded queue: a stdout that stalls
/// (a full pipe, a paused terminal) never stops the launcher's loop from reaping, restarting and stopping its
/// children. Past `max_lines` waiting, lines are dropped (each log file still has them) and the drop is said.
class stdout_writer {
 public:
  static stdout_writer& instance() {
    // Never destroyed: its thread waits on its condition variable until the process ends (destroying a
    // condition variable with a waiter blocks in glibc).
    static stdout_writer* w = new stdout_writer;
    return *w;
  }
  void line(std::string text) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (queue_.size() >= max_lines) {
      ++dropped_;
      return;
    }
    queue_.push_back(std::move(text));
    wake_.notify_one();
  }
  /// Waits (at most `timeout`) until every queued line is written.
  void flush(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mutex_);
    written_.wait_for(lock, timeout, [&] { return queue_.empty() && !writing_; });
  }

 private:
  static constexpr std::size_t max_lines = 10000;
  stdout_writer() : thread_([this] { run(); }) { thread_.detach(); }  // lives as long as the process
  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return !queue_.empty() || dropped_ > 0; });
      std::deque<std::string> batch;
      batch.swap(queue_);
      const auto dropped = dropped_;
      dropped_ = 0;
      writing_ = true;
      lock.unlock();
      if (dropped > 0) std::cout << "infermesh cluster | " << dropped << " line(s) not shown: stdout was not read fast enough (see the log files)\n";
      for (const auto& l : batch) std::cout << l << '\n';
      std::cout.flush();
      lock.lock();
      writing_ = false;
      written_.notify_all();
    }
  }
  std::mutex mutex_;
  std::condition_variable wake_, written_;
  std::deque<std::string> queue_;
  std::uint64_t dropped_ = 0;
  bool writing_ = false;
  std::thread thread_;
};

/// Bytes one pump() takes from one child: a chatty child cannot hold the launcher's loop.
constexpr std::size_t max_pump_bytes = 256 * 1024;

}  // namespace

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
    close_range(3, ~0U, 0);  // no other descriptor of the launcher (log files, its NATS socket) leaks in
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
  stdout_writer::instance().line(name_ + " | " + line);
}

void launched_process::flush_stdout(std::chrono::milliseconds timeout) { stdout_writer::instance().flush(timeout); }

void launched_process::pump() {
  if (out_ < 0) return;
  char buffer[16384];
  for (std::size_t taken = 0; taken < max_pump_bytes;) {
    const ssize_t n = read(out_, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EAGAIN: all read for now; 0: every writer closed it
    taken += static_cast<std::size_t>(n);
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
}

void launched_process::exited() {
  for (int i = 0; i < 64 && out_ >= 0; ++i) pump();  // what it wrote before it exited (bounded)
  if (!partial_.empty()) write_line(partial_);
  partial_.clear();
  log_.flush();
  if (out_ >= 0) close(out_);
  out_ = -1;
  pid_ = -1;
}

void launched_process::signal(int signal) const {
  if (pid_ > 0) kill(pid_, signal);
}

}  // namespace infermesh
