#include "runtime/log.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace infermesh {

void write_log_line(log_level level, std::string_view line) {
  using namespace std::chrono;
  const auto now = system_clock::now();
  const std::time_t secs = system_clock::to_time_t(now);
  const auto millis = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  static constexpr const char* names[] = {"info", "warn", "error"};
  // One fprintf per line: stdio locks the stream, so concurrent lines never interleave.
  std::fprintf(stderr, "%s.%03dZ %-5s %.*s\n", stamp, static_cast<int>(millis), names[static_cast<int>(level)],
               static_cast<int>(line.size()), line.data());
}

}  // namespace infermesh
