#pragma once
/// Line-oriented logging to stderr with a UTC timestamp and the node name. Thread-safe (one write per line).

#include <sstream>
#include <string>
#include <string_view>

namespace infermesh {

enum class log_level { info, warn, error };

void write_log_line(log_level level, std::string_view line);

/// `log(log_level::info, "connected to ", url)`: the arguments are streamed into one line.
template <class... Ts>
void log(log_level level, const Ts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  write_log_line(level, out.str());
}

}  // namespace infermesh
