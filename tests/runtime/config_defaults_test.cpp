// cluster-config/README.md documents every key's default; the structs' initializers are the defaults the parser
// falls back to (runtime/config.cpp reads them from default-constructed structs). These tests read the README's
// tables and inline default lists and fail when one disagrees with a struct, or when a documented key is
// neither compared here nor listed as having a described (non-literal) default.
#include <boost/test/unit_test.hpp>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "runtime/config.hpp"

using namespace infermesh;

namespace {

const std::string readme_path = std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/README.md";

std::string read_readme() {
  std::ifstream in(readme_path);
  BOOST_REQUIRE_MESSAGE(in, "cannot read " << readme_path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trim(std::string s) {
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

std::string unquote(std::string s) {
  s = trim(s);
  if (s.size() >= 2 && s.front() == '`' && s.back() == '`') s = s.substr(1, s.size() - 2);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  return s;
}

/// The key tables of the README: "<section>.<key>" (a qualifier such as "(tesseract)" kept after the key) ->
/// the default cell as written. A cell naming several keys (`input.width`, `input.height`) with as many
/// comma-separated defaults gives one entry per key.
std::map<std::string, std::string> documented_defaults(const std::string& readme) {
  std::map<std::string, std::string> out;
  std::string section;
  std::istringstream lines(readme);
  const std::regex heading(R"(^## `(\w+)`)");
  const std::regex backticked("`([^`]+)`");
  for (std::string line; std::getline(lines, line);) {
    std::smatch m;
    if (std::regex_search(line, m, heading)) {
      section = m[1];
      continue;
    }
    if (line.rfind("## ", 0) == 0) section.clear();
    if (section.empty() || line.rfind("| `", 0) != 0) continue;
    std::vector<std::string> cells;
    std::string cell;
    std::istringstream row(line.substr(1));
    while (std::getline(row, cell, '|')) cells.push_back(cell);
    BOOST_REQUIRE_MESSAGE(cells.size() >= 2, "a key row without a default: " << line);
    std::vector<std::string> keys;
    for (std::sregex_iterator k(cells[0].begin(), cells[0].end(), backticked), end; k != end; ++k)
      keys.push_back((*k)[1]);
    std::string qualifier;
    if (const auto open = cells[0].find('('); open != std::string::npos)
      qualifier = " " + trim(cells[0].substr(open));
    std::vector<std::string> values;
    if (keys.size() > 1) {
      std::istringstream parts(cells[1]);
      for (std::string part; std::getline(parts, part, ',');) values.push_back(trim(part));
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto value = values.size() == keys.size() ? values[i] : trim(cells[1]);
      out[section + "." + keys[i] + qualifier] = value;
    }
  }
  return out;
}

/// `{a: 1, b: x}` written right after `prefix` in the README: key -> value.
std::map<std::string, std::string> inline_defaults(const std::string& readme, const std::string& prefix) {
  const auto at = readme.find(prefix);
  BOOST_REQUIRE_MESSAGE(at != std::string::npos, "README has no '" << prefix << "'");
  const auto open = readme.find('{', at);
  const auto close = readme.find('}', open);
  std::map<std::string, std::string> out;
  std::istringstream parts(readme.substr(open + 1, close - open - 1));
  for (std::string part; std::getline(parts, part, ',');) {
    const auto colon = part.find(':');
    out[trim(part.substr(0, colon))] = trim(part.substr(colon + 1));
  }
  return out;
}

template <class T>
std::string str(T v) {
  return std::to_string(v);
}

/// Every key of the tables whose default is a value, with the struct's initializer as text.
std::map<std::string, std::string> struct_defaults() {
  const node_config node{};
  const model_config model{};
  const input_spec input{};
  const batching_config batching{};
  const supervision_config supervision{};
  std::string servers;
  for (const auto& s : node.nats.servers) servers += (servers.empty() ? "" : ", ") + s;
  return {
      {"node.default_deadline_ms", str(node.default_deadline.count())},
      {"node.drain_timeout_ms", str(node.drain_timeout.count())},
      {"node.max_payload_bytes", str(node.max_payload_bytes)},
      {"node.preprocess_workers", str(node.preprocess_workers)},
      {"node.stats_interval_ms", str(node.stats_interval.count())},
      {"node.max_pages", str(node.max_pages)},
      {"node.max_document_pages", str(node.documents.max_document_pages)},
      {"node.max_document_pixels", str(node.documents.max_request_pixels)},
      {"node.max_inflight_document_pixels", str(node.max_inflight_document_pixels)},
      {"node.reply_cache_entries", str(node.reply_cache_entries)},
      {"node.reply_cache_ttl_ms", str(node.reply_cache_ttl.count())},
      {"node.max_waiters_per_id", str(node.max_waiters_per_id)},
      {"node.max_backlog_requests", str(node.backlog.max_requests)},
      {"node.max_backlog_bytes", str(node.backlog.max_bytes)},
      {"node.faults", node.faults ? "true" : "false"},
      {"node.control", node.control ? "true" : "false"},
      {"node.max_loaded_models", str(node.max_loaded_models)},
      {"node.pdf_dpi", str(node.documents.dpi)},
      {"nats.servers", "[" + servers + "]"},
      {"nats.max_reconnect", str(node.nats.max_reconnect)},
      {"nats.reconnect_wait_ms", str(node.nats.reconnect_wait.count())},
      {"nats.connect_timeout_ms", str(node.nats.connect_timeout.count())},
      {"nats.ping_interval_ms", str(node.nats.ping_interval.count())},
      {"nats.max_pings_out", str(node.nats.max_pings_out)},
      {"nats.max_pending_messages", str(node.nats.max_pending_messages)},
      {"nats.max_pending_bytes", str(node.nats.max_pending_bytes)},
      {"nats.ignore_discovered_servers", node.nats.ignore_discovered_servers ? "true" : "false"},
      {"nats.auth", node.nats.credentials.describe()},  // "anonymous"
      {"nats.tls", node.nats.credentials.tls ? "on" : "off"},
      {"nats.inbox_prefix", node.nats.credentials.inboxes()},  // "_INBOX"
      {"models.version", model.version},
      {"models.device", model.device},
      {"models.threads", str(model.threads)},
      {"models.input.width", str(input.width)},
      {"models.input.height", str(input.height)},
      {"models.input.color", input.color == input_spec::color_order::rgb ? "rgb" : "bgr"},
      {"models.input.resize", input.resize == input_spec::interpolation::linear ? "linear" : "(not linear)"},
      {"models.input.max_pixels", str(input.max_pixels)},
      {"models.input.decode", input.fast_jpeg_decode ? "fast" : "full"},
      {"models.batching.max_batch_size", str(batching.max_batch_size)},
      {"models.batching.max_queue_delay_us", str(batching.max_queue_delay.count())},
      {"models.batching.queue_capacity", str(batching.queue_capacity)},
      {"models.batching.queue_capacity (tesseract)", str(batching.queue_capacity)},
      {"models.tessdata", model.ocr.tessdata},
      {"models.language", model.ocr.language},
      {"models.workers", str(model.workers)},
      {"models.max_pixels", str(model.ocr.max_pixels)},
      {"models.synthetic.latency_us", str(model.synthetic.latency.count())},
      {"models.synthetic.per_item_latency_us", str(model.synthetic.per_item_latency.count())},
      {"models.synthetic.load_ms", str(model.synthetic.load_time.count())},
      {"models.supervision.max_restarts", str(supervision.max_restarts)},
      {"models.supervision.period_ms", str(supervision.period.count())},
      {"models.supervision.backoff_ms", str(supervision.backoff.count())},
      {"models.supervision.max_backoff_ms", str(supervision.max_backoff.count())},
      {"models.supervision.max_attempts", str(supervision.max_attempts)},
      {"models.supervision.loading_grace_ms", str(supervision.loading_grace.count())},
  };
}

/// Keys whose README default is a description, not a value (required, derived from another key, ...).
const std::set<std::string> described_defaults{
    "node.name",          // <hostname>-<pid>
    "node.max_image_bytes",  // `max_payload_bytes`
    "node.supervision",   // as models'
    "models.name",        "models.serves", "models.path", "models.labels", "models.labels_file",  // required
    "models.backend",     // by step
    "models.input.mean",  "models.input.std",  // ImageNet
    "models.synthetic.poison_mean_above",       // off
    "http.listen",                              // off: no HTTP
};

}  // namespace

BOOST_AUTO_TEST_SUITE(config_defaults)

BOOST_AUTO_TEST_CASE(the_readme_tables_give_each_key_the_default_its_struct_has) {
  const auto documented = documented_defaults(read_readme());
  const auto defaults = struct_defaults();
  BOOST_TEST(documented.size() > 40u, "the README's key tables were found (" << documented.size() << " keys)");
  for (const auto& [key, value] : defaults) {
    const auto found = documented.find(key);
    if (found == documented.end()) {
      BOOST_ERROR("cluster-config/README.md does not document " << key << " (default " << value << ")");
      continue;
    }
    BOOST_TEST(unquote(found->second) == value, key << ": README says " << found->second << ", the struct " << value);
  }
  for (const auto& [key, value] : documented)
    BOOST_TEST((defaults.count(key) || described_defaults.count(key)),
               key << " (README default " << value << ") is compared with no struct: add it to struct_defaults()");
}

BOOST_AUTO_TEST_CASE(the_readme_jetstream_example_shows_the_defaults) {
  const auto documented = inline_defaults(read_readme(), "jetstream: {");
  const node_config node{};
  const std::map<std::string, std::string> defaults{
      {"stream", node.work_queue.stream},
      {"replicas", str(node.work_queue.replicas)},
      {"ack_wait_ms", str(node.work_queue.ack_wait.count())},
      {"max_deliver", str(node.max_deliver)},
      {"max_in_flight", str(node.work_queue.max_in_flight)},
  };
  BOOST_TEST(documented.size() == defaults.size());
  for (const auto& [key, value] : defaults) {
    BOOST_REQUIRE_MESSAGE(documented.count(key), "jetstream example has no " << key);
    BOOST_TEST(documented.at(key) == value, "jetstream." << key << ": README " << documented.at(key) << ", struct " << value);
  }
}

BOOST_AUTO_TEST_CASE(the_readme_cluster_restart_policy_shows_the_launchers_defaults) {
  const auto documented = inline_defaults(read_readme(), "`{max_restarts: ");  // "... are the defaults"
  const supervision_config launcher = cluster_plan{}.node_restarts;
  const std::map<std::string, std::string> defaults{
      {"max_restarts", str(launcher.max_restarts)},
      {"period_ms", str(launcher.period.count())},
      {"backoff_ms", str(launcher.backoff.count())},
      {"max_backoff_ms", str(launcher.max_backoff.count())},
  };
  for (const auto& [key, value] : defaults) {
    BOOST_REQUIRE_MESSAGE(documented.count(key), "cluster supervision defaults lack " << key);
    BOOST_TEST(documented.at(key) == value, "supervision." << key << ": README " << documented.at(key) << ", struct " << value);
  }
}

BOOST_AUTO_TEST_SUITE_END()
