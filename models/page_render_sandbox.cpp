#include "models/page_render_sandbox.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "models/page_render_wire.hpp"

extern char** environ;

namespace infermesh {
namespace {

using clock = std::chrono::steady_clock;

/// Closes a descriptor once.
struct fd_guard {
  int fd = -1;
  ~fd_guard() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

/// The running child: killed and reaped unless it was reaped already.
struct child_guard {
  pid_t pid = -1;
  int status = 0;
  ~child_guard() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      reap();
    }
  }
  void reap() {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
  }
};

std::string request_of(const shared_bytes& input, int max_pages, const document_limits& limits) {
  render_wire::request_header h;
  h.max_pages = max_pages;
  h.dpi = limits.dpi;
  h.max_document_pages = limits.max_document_pages;
  h.max_pixels = limits.max_pixels;
  h.max_request_pixels = limits.max_request_pixels;
  h.size = input.size();
  std::string out;
  out.reserve(sizeof h + input.size());
  render_wire::append(out, h);
  out.append(reinterpret_cast<const char*>(input.data()), input.size());
  return out;
}

outcome<document_pages> parse_answer(const std::string& in, int max_pages, const document_limits& limits) {
  const error malformed{error_code::internal, "the page renderer's answer is malformed"};
  std::size_t at = 0;
  std::uint8_t status = 0;
  if (!render_wire::take(in, at, status)) return malformed;
  if (status == render_wire::failed) {
    std::uint8_t code = 0;
    std::uint32_t size = 0;
    if (!render_wire::take(in, at, code) || !render_wire::take(in, at, size) || in.size() - at < size ||
        code > static_cast<std::uint8_t>(error_code::internal))
      return malformed;
    return error{static_cast<error_code>(code), in.substr(at, size)};
  }
  document_pages out;
  std::int32_t total = 0;
  std::uint32_t count = 0;
  if (!render_wire::take(in, at, total) || !render_wire::take(in, at, out.pixels) || !render_wire::take(in, at, count) ||
      count > static_cast<std::uint32_t>(max_pages))
    return malformed;
  out.total_pages = total;
  for (std::uint32_t i = 0; i < count; ++i) {
    std::uint64_t size = 0;
    // A page is a PGM header and at most max_pixels bytes: a bigger claim is not believed.
    if (!render_wire::take(in, at, size) || size > limits.max_pixels + 64 || in.size() - at < size) return malformed;
    out.pages.push_back(shared_bytes::copy_of(std::string_view(in.data() + at, size)));
    at += size;
  }
  return out;
}

/// What the child's death (not a written answer) means.
error death_of(int status, const std::string& stderr_text, const render_sandbox& sandbox, std::uint64_t memory) {
  if (WIFSIGNALED(status) && (WTERMSIG(status) == SIGXCPU || WTERMSIG(status) == SIGKILL))
    return {error_code::deadline_exceeded,
            "the page renderer used its CPU limit of " + std::to_string(sandbox.cpu_seconds) + " s on this document"};
  // poppler's allocator prints this and aborts when malloc fails (the child's RLIMIT_AS).
  if (stderr_text.find("Out of memory") != std::string::npos || stderr_text.find("bad_alloc") != std::string::npos)
    return {error_code::too_large,
            "the document needs more memory than the page renderer's limit of " + std::to_string(memory) + " bytes"};
  if (WIFSIGNALED(status))
    return {error_code::unsupported_media, "the page renderer crashed on this document (signal " +
                                               std::to_string(WTERMSIG(status)) + "): it is corrupt or hostile"};
  return {error_code::internal, "the page renderer exited with status " + std::to_string(WEXITSTATUS(status))};
}

}  // namespace

std::uint64_t render_memory_bytes(const document_limits& limits) {
  return (std::uint64_t{256} << 20) + 2 * limits.max_request_pixels + tiff_max_single_alloc(limits);
}

std::string render_child_next_to_this_executable() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return "";
  const auto child = self.parent_path() / "infermesh-render";
  return std::filesystem::is_regular_file(child, ec) ? child.string() : "";
}

outcome<document_pages> split_pages_sandboxed(const render_sandbox& sandbox, const shared_bytes& input, int max_pages,
                                              const document_limits& limits, clock::time_point deadline) {
  if (max_pages < 1) return error{error_code::bad_request, "'max_pages' must be at least 1"};
  if (!is_multi_page_format(input)) return split_pages(input, max_pages, limits, deadline);  // nothing to render
  if (clock::now() >= deadline) return error{error_code::deadline_exceeded, "the deadline passed before the document was split"};
  const std::uint64_t memory = sandbox.memory_bytes ? sandbox.memory_bytes : render_memory_bytes(limits);
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return error{error_code::internal, std::string("socketpair for the page renderer: ") + std::strerror(errno)};
  fd_guard ours{pair[0]}, theirs{pair[1]};
  int err_pipe[2];
  if (::pipe2(err_pipe, O_CLOEXEC) != 0)
    return error{error_code::internal, std::string("pipe for the page renderer: ") + std::strerror(errno)};
  fd_guard err_ours{err_pipe[0]}, err_theirs{err_pipe[1]};

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, theirs.fd, 0);  // dup2 clears O_CLOEXEC on 0, 1 and 2 only
  posix_spawn_file_actions_adddup2(&actions, theirs.fd, 1);
  posix_spawn_file_actions_adddup2(&actions, err_theirs.fd, 2);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, defaults;
  sigemptyset(&none);
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGXCPU);
  posix_spawnattr_setsigmask(&attr, &none);  // not the calling thread's mask
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  const std::string parent = std::to_string(::getpid()), mem = std::to_string(memory),
                    cpu = std::to_string(sandbox.cpu_seconds);
  std::vector<char*> argv{const_cast<char*>(sandbox.child.c_str()), const_cast<char*>("--parent"),
                          const_cast<char*>(parent.c_str()),      const_cast<char*>("--memory-bytes"),
                          const_cast<char*>(mem.c_str()),         const_cast<char*>("--cpu-seconds"),
                          const_cast<char*>(cpu.c_str()),         nullptr};
  child_guard child;
  char** env = environ;
#if defined(__SANITIZE_ADDRESS__)
  // An ASan build's child cannot run under RLIMIT_AS (page_render_child.cpp): ASan bounds its heap instead.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e)
    if (std::strncmp(*e, "ASAN_OPTIONS=", 13) != 0) env_strings.emplace_back(*e);
  const char* asan = std::getenv("ASAN_OPTIONS");
  env_strings.push_back(std::string("ASAN_OPTIONS=") + (asan ? std::string(asan) + ":" : "") +
                        "allocator_may_return_null=1:malloc_limit_mb=" + std::to_string(memory >> 20));
  std::vector<char*> env_pointers;
  for (auto& e : env_strings) env_pointers.push_back(e.data());
  env_pointers.push_back(nullptr);
  env = env_pointers.data();
#endif
  const int spawned = ::posix_spawn(&child.pid, sandbox.child.c_str(), &actions, &attr, argv.data(), env);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    child.pid = -1;
    return error{error_code::internal, "the page renderer '" + sandbox.child + "' could not be started: " + std::strerror(spawned)};
  }
  theirs.reset();
  err_theirs.reset();
  ::fcntl(ours.fd, F_SETFL, O_NONBLOCK);
  ::fcntl(err_ours.fd, F_SETFL, O_NONBLOCK);

  const std::string request = request_of(input, max_pages, limits);
  std::size_t sent = 0;
  std::string answer, stderr_text;
  // The most a well-behaved child writes: every page's image and a header each.
  const std::uint64_t max_answer = 4096 + limits.max_request_pixels + std::uint64_t(max_pages) * 128 + (64 << 10);
  bool answer_done = false, stderr_done = false;
  char buffer[1 << 16];
  while (!answer_done || !stderr_done) {
    const auto now = clock::now();
    if (now >= deadline)
      return error{error_code::deadline_exceeded, "the deadline passed while the document was rendered (renderer killed)"};
    const auto left = deadline == clock::time_point::max()
                          ? std::chrono::milliseconds(1000)
                          : std::min(std::chrono::milliseconds(1000),
                                     std::chrono::ceil<std::chrono::milliseconds>(deadline - now));
    pollfd fds[2] = {{ours.fd, static_cast<short>(answer_done ? 0 : POLLIN | (sent < request.size() ? POLLOUT : 0)), 0},
                     {err_ours.fd, static_cast<short>(stderr_done ? 0 : POLLIN), 0}};
    if (answer_done) fds[0].fd = -1;
    if (stderr_done) fds[1].fd = -1;
    const int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR)
      return error{error_code::internal, std::string("poll on the page renderer: ") + std::strerror(errno)};
    if (ready <= 0) continue;
    if (fds[0].revents & POLLOUT) {
      const ssize_t n = ::send(ours.fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n > 0 && (sent += static_cast<std::size_t>(n)) == request.size()) ::shutdown(ours.fd, SHUT_WR);
      if (n < 0 && errno != EAGAIN && errno != EINTR) sent = request.size();  // it died: its status says why
    }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(ours.fd, buffer, sizeof buffer, 0);
      if (n > 0) answer.append(buffer, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) answer_done = true;
      if (answer.size() > max_answer) return error{error_code::internal, "the page renderer's answer is too long"};
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(err_ours.fd, buffer, sizeof buffer);
      if (n > 0 && stderr_text.size() < 4096) stderr_text.append(buffer, static_cast<std::size_t>(n));
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) stderr_done = true;
    }
  }
  child.reap();  // both of its ends are closed: it has exited (or is about to)
  const int status = child.status;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return parse_answer(answer, max_pages, limits);
  return death_of(status, stderr_text, sandbox, memory);
}

}  // namespace infermesh
