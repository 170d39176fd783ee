#include "runtime/log.hpp"

#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace infermesh {
namespace {

constexpr const char* level_names[] = {"info", "warn", "error"};

/// The process's sink: written by configure_log before other threads start, read-only afterwards.
struct log_sink {
  log_format format = log_format::text;
  std::string node;
};
log_sink sink;

/// RFC 3339, UTC, milliseconds: "2026-05-01T10:00:00.123Z".
std::string rfc3339_millis(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const std::time_t secs = system_clock::to_time_t(t);
  auto millis = duration_cast<milliseconds>(t.time_since_epoch()).count() % 1000;
  if (millis < 0) millis += 1000;
  std::tm utc{};
  gmtime_r(&secs, &utc);
  char stamp[40];
  const auto n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(stamp + n, sizeof stamp - n, ".%03dZ", static_cast<int>(millis));
  return stamp;
}

/// Appends `s` with control characters (and, inside quotes, `"` and `\`) escaped, so a text line stays one line.
void append_escaped(std::string& out, std::string_view s, bool quoted) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (quoted && (c == '"' || c == '\\')) out += {'\\', c};
    else if (u < 0x20 || u == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", u);
      out += hex;
    } else {
      out += c;
    }
  }
}

/// A field's value as `key=value` needs it: bare when it is one plain word, else quoted.
void append_value(std::string& out, std::string_view v) {
  bool bare = !v.empty();
  for (const char c : v) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ' || c == '"' || c == '=' || c == '\\' || u < 0x20 || u == 0x7f) bare = false;
  }
  if (bare) return out.append(v.data(), v.size()), void();
  out += '"';
  append_escaped(out, v, true);
  out += '"';
}

bool reserved(const std::string& key) { return key == "ts" || key == "level" || key == "node" || key == "msg"; }

std::string text_line(const log_event& e) {
  std::string out = rfc3339_millis(e.time) + " ";
  std::string level = level_names[static_cast<int>(e.level)];
  level.resize(5, ' ');
  out += level + " ";
  if (!e.node.empty()) {
    out += "node '";
    append_escaped(out, e.node, false);
    out += "' ";
  }
  append_escaped(out, e.message, false);
  if (e.fields)
    for (const auto& [key, value] : *e.fields) {
      out += ' ';
      append_escaped(out, reserved(key) ? "field_" + key : key, false);
      out += '=';
      append_value(out, value);
    }
  return out;
}

std::string json_line(const log_event& e) {
  nlohmann::ordered_json line;
  line["ts"] = rfc3339_millis(e.time);
  line["level"] = level_names[static_cast<int>(e.level)];
  line["node"] = e.node.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(std::string(e.node));
  line["msg"] = std::string(e.message);
  if (e.fields)
    for (const auto& [key, value] : *e.fields) line[reserved(key) ? "field_" + key : key] = value;
  // Replace, not throw: a message may quote bytes a client sent (an id, a subject) that are not UTF-8.
  return line.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

}  // namespace

bool parse_log_format(std::string_view name, log_format& out) {
  if (name == "text") return out = log_format::text, true;
  if (name == "json") return out = log_format::json, true;
  return false;
}

std::string format_log_line(const log_event& event, log_format format) {
  return format == log_format::json ? json_line(event) : text_line(event);
}

void configure_log(log_format format, std::string node) {
  sink.format = format;
  sink.node = std::move(node);
}

void write_log_line(log_level level, std::string_view message, const log_fields* fields) {
  log_event event{std::chrono::system_clock::now(), level, sink.node, message, fields};
  std::string line = format_log_line(event, sink.format);
  line += '\n';
  // One fwrite per line: stdio locks the stream, so concurrent lines never interleave.
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace infermesh
