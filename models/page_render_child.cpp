/// infermesh-render: splits one PDF or TIFF into page images in a process of its own, under limits the
/// kernel enforces (RLIMIT_AS, RLIMIT_CPU), so that what poppler or libtiff allocate or compute from
/// numbers inside a hostile file cannot take the node with it. Spawned by page_render_sandbox.cpp only;
/// reads the request on stdin and writes the answer on stdout (the same socket, page_render_wire.hpp).
///
///   infermesh-render --parent PID --memory-bytes N --cpu-seconds S
///
/// It dies with its parent (PR_SET_PDEATHSIG) and holds no descriptor but 0, 1 and 2 (close_range).
/// Links only poppler-cpp and libtiff (and the page code): no actor system, no model.

#include <linux/close_range.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "models/document_pages.hpp"
#include "models/page_render_wire.hpp"

namespace {

using namespace infermesh;

bool write_all(int fd, const std::string& bytes) {
  std::size_t at = 0;
  while (at < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + at, bytes.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += static_cast<std::size_t>(n);
  }
  return true;
}

bool read_all(int fd, std::string& out) {
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

std::string failure(error_code code, const std::string& message) {
  std::string out;
  render_wire::append(out, render_wire::failed);
  render_wire::append(out, static_cast<std::uint8_t>(code));
  render_wire::append(out, static_cast<std::uint32_t>(message.size()));
  return out + message;
}

std::string answer(const document_pages& pages) {
  std::string out;
  render_wire::append(out, render_wire::ok);
  render_wire::append(out, static_cast<std::int32_t>(pages.total_pages));
  render_wire::append(out, pages.pixels);
  render_wire::append(out, static_cast<std::uint32_t>(pages.pages.size()));
  for (const auto& p : pages.pages) {
    render_wire::append(out, static_cast<std::uint64_t>(p.size()));
    out.append(reinterpret_cast<const char*>(p.data()), p.size());
  }
  return out;
}

unsigned long long number_after(int argc, char** argv, const char* flag) {
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], flag) == 0) return std::strtoull(argv[i + 1], nullptr, 10);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Exit codes: 0 an answer was written; 2 bad arguments or limits; 3 the parent is already gone.
  const auto parent = static_cast<pid_t>(number_after(argc, argv, "--parent"));
  const auto memory = number_after(argc, argv, "--memory-bytes");
  const auto cpu = number_after(argc, argv, "--cpu-seconds");
  if (parent <= 0 || memory == 0 || cpu == 0) return 2;
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return 2;
  if (::getppid() != parent) return 3;  // it died before the death signal was armed
  ::syscall(SYS_close_range, 3u, ~0u, 0u);  // whatever the parent let through (it spawns with O_CLOEXEC)
  const rlimit as{memory, memory}, cpu_limit{cpu, cpu + 1}, no_core{0, 0};
#if defined(__SANITIZE_ADDRESS__)
  // AddressSanitizer has reserved terabytes of shadow before main: under RLIMIT_AS no mapping would succeed.
  // The parent gives an ASan child the same bound as ASan's own (ASAN_OPTIONS malloc_limit_mb).
  const bool address_limit = true;
#else
  const bool address_limit = ::setrlimit(RLIMIT_AS, &as) == 0;
#endif
  if (!address_limit || ::setrlimit(RLIMIT_CPU, &cpu_limit) != 0 || ::setrlimit(RLIMIT_CORE, &no_core) != 0)
    return 2;
  std::string in;
  if (!read_all(0, in)) return 2;
  std::size_t at = 0;
  render_wire::request_header h;
  if (!render_wire::take(in, at, h) || h.magic != render_wire::request_magic || in.size() - at != h.size)
    return write_all(1, failure(error_code::internal, "the page renderer got a malformed request")) ? 0 : 2;
  document_limits limits;
  limits.dpi = h.dpi;
  limits.max_document_pages = h.max_document_pages;
  limits.max_pixels = h.max_pixels;
  limits.max_request_pixels = h.max_request_pixels;
  std::string out;
  try {
    auto document = shared_bytes::copy_of(std::string_view(in.data() + at, h.size));
    in = std::string();  // the copy is the document now
    auto split = split_pages(document, h.max_pages, limits);
    out = split ? answer(*split) : failure(split.err().code, split.err().message);
  } catch (const std::bad_alloc&) {
    out = failure(error_code::too_large, "the document needs more memory than the page renderer's limit of " +
                                             std::to_string(memory) + " bytes");
  }
  return write_all(1, out) ? 0 : 2;
}
