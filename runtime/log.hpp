#pragma once
/// Structured, line-oriented logging to stderr: one line per event, each with a UTC timestamp, a level, the
/// node's name, a message and optional fields (`id` for the request id, `model`, `op`, ...). Two formats:
///   text (default)  `2026-05-01T10:00:00.123Z warn  node 'node-a' request failed: ... id=job-17 op=classify`
///   json            `{"ts":"2026-05-01T10:00:00.123Z","level":"warn","node":"node-a","msg":"...","id":"job-17"}`
/// A text line never spans lines (control characters are escaped); a JSON line is one object, its strings
/// escaped by nlohmann_json (invalid UTF-8 replaced by U+FFFD).
///
/// Process-wide state: the sink (format and node name), the one mutable global this API has, because every
/// thread of the process writes to the one stderr. `configure_log` sets it once, on the main thread, before the
/// process starts other threads; `log` is then thread-safe (one write per line, so lines never interleave).
/// `format_log_line` is pure: the formatter, without the sink.

#include <chrono>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infermesh {

enum class log_level { info, warn, error };

/// How lines are printed: `--log-format text|json`.
enum class log_format { text, json };

/// "text" or "json": sets `out` and returns true; anything else: false.
bool parse_log_format(std::string_view name, log_format& out);

/// An event's optional fields, in order: `{{"id", req.id}, {"op", op}}`. Keys are plain words; a key that
/// names one of the line's own (ts, level, node, msg) is written with a `field_` prefix.
using log_fields = std::vector<std::pair<std::string, std::string>>;

/// One event, as the formatter sees it.
struct log_event {
  std::chrono::system_clock::time_point time;
  log_level level = log_level::info;
  std::string_view node;  ///< empty: not a node (the launcher, a client command): text omits it, JSON has null
  std::string_view message;
  const log_fields* fields = nullptr;  ///< null: none
};

/// One line for `event` in `format`, without the newline. Pure.
std::string format_log_line(const log_event& event, log_format format);

/// Sets the process's sink: every later line in `format`, naming `node` (empty: no node). Main thread, before
/// other threads start (see above).
void configure_log(log_format format, std::string node);

/// Writes one event through the sink.
void write_log_line(log_level level, std::string_view message, const log_fields* fields = nullptr);

/// `log(log_level::info, "connected to ", url)`: the arguments are streamed into one message.
template <class... Ts>
void log(log_level level, const Ts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  write_log_line(level, out.str());
}

/// `log(log_level::warn, {{"id", req.id}, {"op", op}}, "request failed: ", message)`: with fields.
template <class... Ts>
void log(log_level level, const log_fields& fields, const Ts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  write_log_line(level, out.str(), &fields);
}

}  // namespace infermesh
