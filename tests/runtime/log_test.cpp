// The log formatter (runtime/log.hpp): one line per event in text or JSON, with level, node, message and
// fields; whatever a message or field holds (quotes, newlines, non-ASCII, bytes that are not UTF-8), a text
// event stays one line and a JSON event is one valid object.
#include <boost/test/unit_test.hpp>

#include <nlohmann/json.hpp>

#include <regex>

#include "runtime/log.hpp"

using namespace infermesh;

namespace {

/// 2026-05-01T10:00:00.123Z: a fixed instant, so lines can be compared whole.
const auto instant = std::chrono::system_clock::time_point(std::chrono::milliseconds(1777629600123LL));
const std::string stamp = "2026-05-01T10:00:00.123Z";

std::string line_of(log_format format, std::string_view message, const log_fields& fields = {},
                    std::string_view node = "node-a", log_level level = log_level::warn) {
  return format_log_line({instant, level, node, message, &fields}, format);
}

/// The JSON object of `line`; fails the test if it is not exactly one object.
nlohmann::json object_of(const std::string& line) {
  BOOST_TEST_REQUIRE(line.find('\n') == std::string::npos, line);
  const auto parsed = nlohmann::json::parse(line, nullptr, false);
  BOOST_TEST_REQUIRE(parsed.is_object(), line);
  return parsed;
}

/// Messages and values that break naive formatters.
const std::vector<std::string> awkward = {
    "say \"hi\"",  "two\nlines",          "tab\there",       "back\\slash", "crlf\r\n",
    "Åsa søker ü", "日本語のページ",        "bell\x07",        "",            "key=value spaces",
    "not utf-8 \xff\xfe", "{\"json\": [1, 2]}", "nul in the middle: a\x01" "b"};

}  // namespace

BOOST_AUTO_TEST_SUITE(log_formatter)

BOOST_AUTO_TEST_CASE(a_text_line_has_the_time_level_node_message_and_fields_in_that_order) {
  BOOST_TEST(line_of(log_format::text, "request failed: model died", {{"id", "job-17"}, {"op", "classify"}}) ==
             stamp + " warn  node 'node-a' request failed: model died id=job-17 op=classify");
}

BOOST_AUTO_TEST_CASE(a_text_line_of_a_process_that_is_not_a_node_names_none) {
  BOOST_TEST(line_of(log_format::text, "cluster: stopping (SIGTERM)", {}, "", log_level::info) ==
             stamp + " info  cluster: stopping (SIGTERM)");
}

BOOST_AUTO_TEST_CASE(a_text_line_keeps_the_message_as_it_was_written) {
  // Integration tests and operators grep these phrases: fields come after them, never inside.
  const auto line = line_of(log_format::text, "model 'm' restarted: ready 12 ms after its crash", {{"model", "m"}});
  BOOST_TEST(line.find("model 'm' restarted: ready 12 ms after its crash model=m") != std::string::npos, line);
}

BOOST_AUTO_TEST_CASE(a_text_field_value_with_spaces_quotes_or_equals_is_quoted_and_escaped) {
  const auto line = line_of(log_format::text, "m", {{"id", "a \"b\"=c\\d"}, {"op", ""}});
  BOOST_TEST(line == stamp + " warn  node 'node-a' m id=\"a \\\"b\\\"=c\\\\d\" op=\"\"");
}

BOOST_AUTO_TEST_CASE(a_text_event_stays_one_line_whatever_its_message_and_fields_hold) {
  for (const auto& s : awkward) {
    const auto line = line_of(log_format::text, s, {{"id", s}});
    BOOST_TEST(line.find('\n') == std::string::npos, line);
    BOOST_TEST(line.find('\r') == std::string::npos, line);
  }
  BOOST_TEST(line_of(log_format::text, "two\nlines") == stamp + " warn  node 'node-a' two\\nlines");
}

BOOST_AUTO_TEST_CASE(a_text_line_keeps_non_ascii_as_it_is) {
  BOOST_TEST(line_of(log_format::text, "Åsa 日本", {{"model", "ü"}}) == stamp + " warn  node 'node-a' Åsa 日本 model=ü");
}

BOOST_AUTO_TEST_CASE(a_json_line_is_one_object_with_ts_level_node_msg_then_the_fields) {
  const auto line = line_of(log_format::json, "request failed", {{"id", "job-17"}, {"op", "classify"}});
  BOOST_TEST(line == R"({"ts":")" + stamp +
                         R"(","level":"warn","node":"node-a","msg":"request failed","id":"job-17","op":"classify"})");
}

BOOST_AUTO_TEST_CASE(a_json_timestamp_is_rfc3339_utc_with_milliseconds) {
  const auto now = format_log_line({std::chrono::system_clock::now(), log_level::info, "n", "m", nullptr},
                                   log_format::json);
  static const std::regex rfc3339(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$)");
  const std::string ts = object_of(now)["ts"];
  BOOST_TEST(std::regex_match(ts, rfc3339), ts);
}

BOOST_AUTO_TEST_CASE(every_json_line_is_valid_and_reads_back_what_was_logged) {
  for (const auto& s : awkward) {
    const auto parsed = object_of(line_of(log_format::json, s, {{"id", s}, {"model", s}}, s));
    if (s.find('\xff') != std::string::npos) {  // not UTF-8: replaced (U+FFFD), never thrown
      BOOST_TEST(parsed["msg"].get<std::string>().find("\xEF\xBF\xBD") != std::string::npos);
      continue;
    }
    BOOST_TEST(parsed["msg"] == s);
    BOOST_TEST(parsed["id"] == s);
    BOOST_TEST(parsed["model"] == s);
    if (!s.empty()) BOOST_TEST(parsed["node"] == s);
  }
}

BOOST_AUTO_TEST_CASE(json_escapes_quotes_and_newlines_and_keeps_non_ascii_as_utf8) {
  const auto line = line_of(log_format::json, "say \"hi\"\nÅ", {});
  BOOST_TEST(line.find(R"("msg":"say \"hi\"\nÅ")") != std::string::npos, line);
}

BOOST_AUTO_TEST_CASE(a_json_line_of_a_process_that_is_not_a_node_has_node_null) {
  const auto parsed = object_of(line_of(log_format::json, "m", {}, ""));
  BOOST_TEST(parsed.contains("node"));
  BOOST_TEST(parsed["node"].is_null());
}

BOOST_AUTO_TEST_CASE(a_field_named_like_a_line_key_never_replaces_it) {
  const log_fields clash{{"msg", "field"}, {"level", "x"}, {"ts", "y"}, {"node", "z"}};
  const auto parsed = object_of(line_of(log_format::json, "the message", clash));
  BOOST_TEST(parsed["msg"] == "the message");
  BOOST_TEST(parsed["level"] == "warn");
  BOOST_TEST(parsed["node"] == "node-a");
  BOOST_TEST(parsed["ts"] == stamp);
  BOOST_TEST(parsed["field_msg"] == "field");
  BOOST_TEST(line_of(log_format::text, "m", {{"node", "z"}}) == stamp + " warn  node 'node-a' m field_node=z");
}

BOOST_AUTO_TEST_CASE(every_level_has_its_name) {
  BOOST_TEST(object_of(line_of(log_format::json, "m", {}, "n", log_level::info))["level"] == "info");
  BOOST_TEST(object_of(line_of(log_format::json, "m", {}, "n", log_level::warn))["level"] == "warn");
  BOOST_TEST(object_of(line_of(log_format::json, "m", {}, "n", log_level::error))["level"] == "error");
  BOOST_TEST(line_of(log_format::text, "m", {}, "n", log_level::error) == stamp + " error node 'n' m");
}

BOOST_AUTO_TEST_CASE(log_format_names_are_text_and_json_only) {
  log_format f = log_format::text;
  BOOST_TEST(parse_log_format("json", f));
  BOOST_TEST((f == log_format::json));
  BOOST_TEST(parse_log_format("text", f));
  BOOST_TEST((f == log_format::text));
  BOOST_TEST(!parse_log_format("JSON", f));
  BOOST_TEST(!parse_log_format("", f));
}

BOOST_AUTO_TEST_SUITE_END()
