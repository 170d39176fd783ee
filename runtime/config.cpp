#include "runtime/config.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <system_error>

namespace infermesh {
namespace {

namespace fs = std::filesystem;

/// Thrown inside this file only; parse_config turns it into an error naming the key.
struct config_error {
  std::string key;
  std::string message;
};

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

void allow_keys(const YAML::Node& map, const std::string& path, std::initializer_list<const char*> known) {
  if (!map) return;
  if (!map.IsMap()) throw config_error{path, "must be a map"};
  std::set<std::string> allowed(known.begin(), known.end());
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (allowed.count(key) == 0) {
      std::string list;
      for (const auto& k : known) list += (list.empty() ? "" : ", ") + std::string(k);
      throw config_error{join(path, key), "unknown key (known here: " + list + ")"};
    }
  }
}

std::string text(const YAML::Node& map, const std::string& path, const char* key, const std::string& fallback,
                 bool required = false) {
  const auto node = map[key];
  if (!node || node.IsNull()) {
    if (required) throw config_error{join(path, key), "is required"};
    return fallback;
  }
  if (!node.IsScalar()) throw config_error{join(path, key), "must be a string"};
  auto s = node.as<std::string>();
  if (required && s.empty()) throw config_error{join(path, key), "must not be empty"};
  return s;
}

/// `name` of a `node:` map: a node's name is a token of NATS subjects (`infermesh.v1.control.<node>`), so
/// it must be one token that no wildcard can widen: 1 to 64 bytes, no space, `.`, `*`, `>` or control character.
std::string checked_node_name(const YAML::Node& map, const std::string& path, bool required) {
  constexpr std::size_t max_length = 64;
  auto name = text(map, path, "name", "", required);
  if (!map || !map["name"] || map["name"].IsNull()) return name;
  if (name.empty()) throw config_error{join(path, "name"), "must not be empty"};
  if (name.size() > max_length)
    throw config_error{join(path, "name"), "is " + std::to_string(name.size()) + " bytes, over the limit of " +
                                               std::to_string(max_length)};
  for (unsigned char ch : name)
    if (ch <= 0x20 || ch == 0x7f || ch == '.' || ch == '*' || ch == '>')
      throw config_error{join(path, "name"), "'" + name + "' is not a NATS subject token: no spaces, '.', '*', '>' "
                                             "or control characters"};
  return name;
}

long long integer(const YAML::Node& map, const std::string& path, const char* key, long long fallback, long long min,
                  long long max) {
  const auto node = map[key];
  if (!node || node.IsNull()) return fallback;
  long long v = 0;
  if (!node.IsScalar() || !YAML::convert<long long>::decode(node, v) || v < min || v > max)
    throw config_error{join(path, key), "must be an integer between " + std::to_string(min) + " and " +
                                            std::to_string(max) + ", got '" +
                                            (node.IsScalar() ? node.as<std::string>() : std::string("(not a scalar)")) +
                                            "'"};
  return v;
}

/// One of `names` (an absent key: `fallback`, the struct's default); anything else is an error listing them.
template <class T>
T choice(const YAML::Node& map, const std::string& path, const char* key, T fallback,
         std::initializer_list<std::pair<const char*, T>> names) {
  const auto node = map[key];
  if (!node || node.IsNull()) return fallback;
  const auto given = text(map, path, key, "");
  std::string list;
  for (const auto& [name, v] : names) {
    if (given == name) return v;
    list += (list.empty() ? "" : ", ") + std::string(name);
  }
  throw config_error{join(path, key), "must be one of " + list + ", got '" + given + "'"};
}

std::array<float, 3> triple(const YAML::Node& map, const std::string& path, const char* key,
                            std::array<float, 3> fallback, bool positive) {
  const auto node = map[key];
  if (!node) return fallback;
  std::array<float, 3> out{};
  if (!node.IsSequence() || node.size() != 3) throw config_error{join(path, key), "must be a list of 3 numbers"};
  for (std::size_t i = 0; i < 3; ++i) {
    double d = 0;
    if (!YAML::convert<double>::decode(node[i], d) || (positive && d <= 0))
      throw config_error{join(path, key) + "[" + std::to_string(i) + "]",
                         positive ? "must be a number > 0" : "must be a number"};
    out[i] = static_cast<float>(d);
  }
  return out;
}

std::vector<std::string> string_list(const YAML::Node& node, const std::string& path) {
  if (!node.IsSequence() || node.size() == 0) throw config_error{path, "must be a non-empty list of strings"};
  std::vector<std::string> out;
  for (std::size_t i = 0; i < node.size(); ++i) {
    if (!node[i].IsScalar() || node[i].as<std::string>().empty())
      throw config_error{path + "[" + std::to_string(i) + "]", "must be a non-empty string"};
    out.push_back(node[i].as<std::string>());
  }
  return out;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty() || fs::path(path).is_absolute()) return path;
  return (fs::path(base_dir) / path).lexically_normal().string();
}

std::vector<std::string> read_labels(const std::string& file, const std::string& key) {
  std::ifstream in(file);
  if (!in) throw config_error{key, "cannot read labels file '" + file + "'"};
  std::vector<std::string> labels;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) labels.push_back(line);
  }
  if (labels.empty()) throw config_error{key, "labels file '" + file + "' has no labels"};
  return labels;
}

/// Keys a backend does not read are errors too: a setting that silently does nothing is a typo's twin.
void refuse_keys(const YAML::Node& map, const std::string& path, const std::string& backend,
                 std::initializer_list<const char*> keys) {
  for (const char* key : keys)
    if (map[key]) throw config_error{join(path, key), "does not apply to backend '" + backend + "'"};
}

input_spec parse_input(const YAML::Node& n, const std::string& path) {
  allow_keys(n, path, {"width", "height", "color", "resize", "mean", "std", "max_pixels", "decode"});
  input_spec in;
  if (!n) return in;
  in.width = static_cast<int>(integer(n, path, "width", in.width, 1, 8192));
  in.height = static_cast<int>(integer(n, path, "height", in.height, 1, 8192));
  in.color = choice(n, path, "color", in.color, {{"rgb", input_spec::color_order::rgb}, {"bgr", input_spec::color_order::bgr}});
  in.resize = choice(n, path, "resize", in.resize,
                     {{"linear", input_spec::interpolation::linear}, {"area", input_spec::interpolation::area},
                      {"nearest", input_spec::interpolation::nearest}, {"cubic", input_spec::interpolation::cubic}});
  in.mean = triple(n, path, "mean", in.mean, false);
  in.stddev = triple(n, path, "std", in.stddev, true);
  in.max_pixels = static_cast<std::uint64_t>(integer(n, path, "max_pixels", static_cast<long long>(in.max_pixels), 1, 1'000'000'000));
  in.fast_jpeg_decode = choice(n, path, "decode", in.fast_jpeg_decode, {{"full", false}, {"fast", true}});
  return in;
}

batching_config parse_batching(const YAML::Node& n, const std::string& path) {
  allow_keys(n, path, {"max_batch_size", "max_queue_delay_us", "queue_capacity"});
  batching_config b;
  if (!n) return b;
  b.max_batch_size = static_cast<std::size_t>(integer(n, path, "max_batch_size", static_cast<long long>(b.max_batch_size), 1, 4096));
  b.max_queue_delay = std::chrono::microseconds(integer(n, path, "max_queue_delay_us", b.max_queue_delay.count(), 0, 10'000'000));
  b.queue_capacity = static_cast<std::size_t>(integer(n, path, "queue_capacity", static_cast<long long>(b.queue_capacity), 1, 1'000'000));
  if (b.queue_capacity < b.max_batch_size)
    throw config_error{join(path, "queue_capacity"), "must be at least max_batch_size (" +
                                                         std::to_string(b.max_batch_size) + ")"};
  return b;
}

/// `max_restarts`, `period_ms`, `backoff_ms`, `max_backoff_ms` of `n`, each absent one as in `s`.
supervision_config parse_restarts(const YAML::Node& n, const std::string& path, supervision_config s) {
  if (!n) return s;
  s.max_restarts = static_cast<int>(integer(n, path, "max_restarts", s.max_restarts, 0, 1'000'000));
  s.period = std::chrono::milliseconds(integer(n, path, "period_ms", s.period.count(), 1, 86'400'000));
  s.backoff = std::chrono::milliseconds(integer(n, path, "backoff_ms", s.backoff.count(), 0, 600'000));
  s.max_backoff = std::chrono::milliseconds(integer(n, path, "max_backoff_ms", s.max_backoff.count(), 0, 600'000));
  if (s.max_backoff < s.backoff)
    throw config_error{join(path, "max_backoff_ms"), "must be at least backoff_ms (" + std::to_string(s.backoff.count()) + ")"};
  return s;
}

supervision_config parse_supervision(const YAML::Node& n, const std::string& path) {
  allow_keys(n, path, {"max_restarts", "period_ms", "backoff_ms", "max_backoff_ms", "max_attempts", "loading_grace_ms"});
  supervision_config s = parse_restarts(n, path, {});
  if (!n) return s;
  s.max_attempts = static_cast<int>(integer(n, path, "max_attempts", s.max_attempts, 1, 100));
  s.loading_grace = std::chrono::milliseconds(integer(n, path, "loading_grace_ms", s.loading_grace.count(), 0, 3'600'000));
  return s;
}

hosted_model parse_model(const YAML::Node& n, const std::string& path, const std::string& base_dir) {
  allow_keys(n, path, {"name", "version", "serves", "backend", "path", "device", "threads", "labels", "labels_file",
                       "input", "batching", "synthetic", "tessdata", "language", "workers", "max_pixels",
                       "supervision"});
  hosted_model h;
  model_config& m = h.model;
  m.name = text(n, path, "name", "", true);
  m.version = text(n, path, "version", m.version);
  if (!n["serves"]) throw config_error{join(path, "serves"), "is required: the step(s) it serves (classify, orient, ocr)"};
  m.serves = n["serves"].IsScalar() ? std::vector<std::string>{n["serves"].as<std::string>()}
                                    : string_list(n["serves"], join(path, "serves"));
  for (const auto& step : m.serves)
    if (!parse_step(step) || step == "extract")
      throw config_error{join(path, "serves"), "'" + step + "' is not a step a model serves (classify, orient, ocr)"};
  const bool reads = std::find(m.serves.begin(), m.serves.end(), "ocr") != m.serves.end();
  const auto backend = text(n, path, "backend", reads ? "tesseract" : "torchscript");
  if (backend == "torchscript") m.backend = model_config::backend_kind::torchscript;
  else if (backend == "synthetic") m.backend = model_config::backend_kind::synthetic;
  else if (backend == "tesseract") m.backend = model_config::backend_kind::tesseract;
  else throw config_error{join(path, "backend"), "must be 'torchscript', 'synthetic' or 'tesseract', got '" + backend + "'"};
  if (m.backend == model_config::backend_kind::tesseract && !reads)
    throw config_error{join(path, "serves"), "a tesseract model serves 'ocr' (and optionally 'orient', by OSD)"};
  if (m.backend != model_config::backend_kind::tesseract && (reads || m.serves.size() != 1))
    throw config_error{join(path, "serves"), "a " + backend + " model serves one step: 'classify' or 'orient' "
                                             "(ocr: backend tesseract)"};
  if (m.backend == model_config::backend_kind::tesseract) {
    refuse_keys(n, path, backend,
                {"path", "device", "threads", "labels", "labels_file", "input", "synthetic"});
    h.supervision = parse_supervision(n["supervision"], join(path, "supervision"));  // of the pool
    if (n["batching"]) allow_keys(n["batching"], join(path, "batching"), {"queue_capacity"});
    m.ocr.tessdata = text(n, path, "tessdata", m.ocr.tessdata);
    m.ocr.language = text(n, path, "language", m.ocr.language);
    m.ocr.max_pixels = static_cast<std::uint64_t>(integer(n, path, "max_pixels", static_cast<long long>(m.ocr.max_pixels), 1, 1'000'000'000));
    m.workers = static_cast<int>(integer(n, path, "workers", m.workers, 1, 256));
    h.batching = parse_batching(n["batching"], join(path, "batching"));
    return h;
  }
  refuse_keys(n, path, backend, {"tessdata", "language", "workers", "max_pixels"});
  refuse_keys(n, path, backend, {m.backend == model_config::backend_kind::torchscript ? "synthetic" : "path"});
  if (m.backend == model_config::backend_kind::torchscript) {
    m.path = resolve(base_dir, text(n, path, "path", "", true));
    std::error_code status;  // the throwing overload throws on a name too long (found by fuzz/, issue 14 §4)
    if (!fs::is_regular_file(m.path, status))
      throw config_error{join(path, "path"), "file '" + m.path + "' " +
                                               (status ? "cannot be read: " + status.message() : "does not exist")};
  }
  m.device = text(n, path, "device", m.device);
  if (m.device != "cpu" && m.device.rfind("cuda:", 0) != 0)
    throw config_error{join(path, "device"), "must be 'cpu' or 'cuda:N', got '" + m.device + "'"};
  m.threads = static_cast<int>(integer(n, path, "threads", m.threads, 1, 256));
  if (n["labels"] && n["labels_file"]) throw config_error{join(path, "labels"), "give labels or labels_file, not both"};
  if (n["labels"]) m.labels = string_list(n["labels"], join(path, "labels"));
  else if (n["labels_file"])
    m.labels = read_labels(resolve(base_dir, text(n, path, "labels_file", "")), join(path, "labels_file"));
  else throw config_error{join(path, "labels"), "is required (or labels_file)"};
  m.input = parse_input(n["input"], join(path, "input"));
  h.batching = parse_batching(n["batching"], join(path, "batching"));
  h.supervision = parse_supervision(n["supervision"], join(path, "supervision"));
  const auto syn = n["synthetic"];
  allow_keys(syn, join(path, "synthetic"), {"latency_us", "per_item_latency_us", "poison_mean_above", "load_ms"});
  if (syn) {
    m.synthetic.latency = std::chrono::microseconds(integer(syn, join(path, "synthetic"), "latency_us", m.synthetic.latency.count(), 0, 60'000'000));
    m.synthetic.per_item_latency =
        std::chrono::microseconds(integer(syn, join(path, "synthetic"), "per_item_latency_us", m.synthetic.per_item_latency.count(), 0, 60'000'000));
    m.synthetic.load_time = std::chrono::milliseconds(integer(syn, join(path, "synthetic"), "load_ms", m.synthetic.load_time.count(), 0, 600'000));
    if (const auto poison = syn["poison_mean_above"]; poison) {
      double v = 0;
      if (!poison.IsScalar() || !YAML::convert<double>::decode(poison, v))
        throw config_error{join(path, "synthetic.poison_mean_above"), "must be a number"};
      m.synthetic.poison_mean_above = v;
    }
  }
  return h;
}

node_config parse(const YAML::Node& root, const std::string& base_dir) {
  if (!root.IsMap()) throw config_error{"(top level)", "must be a map with keys node, nats, models"};
  allow_keys(root, "", {"node", "nats", "models", "pipelines", "delivery", "jetstream", "http"});
  node_config c;
  const auto node = root["node"];
  allow_keys(node, "node", {"name", "default_deadline_ms", "drain_timeout_ms", "max_payload_bytes", "max_image_bytes",
                            "preprocess_workers", "stats_interval_ms", "max_pages", "max_document_pages",
                            "max_document_pixels", "max_inflight_document_pixels", "pdf_dpi", "faults", "control", "max_loaded_models", "reply_cache_entries", "reply_cache_ttl_ms", "supervision",
                            "max_waiters_per_id", "max_backlog_requests", "max_backlog_bytes"});
  if (node) {
    c.node_name = checked_node_name(node, "node", false);
    c.default_deadline = std::chrono::milliseconds(integer(node, "node", "default_deadline_ms", c.default_deadline.count(), 1, 86'400'000));
    c.drain_timeout = std::chrono::milliseconds(integer(node, "node", "drain_timeout_ms", c.drain_timeout.count(), 0, 3'600'000));
    c.max_payload_bytes = static_cast<std::size_t>(integer(node, "node", "max_payload_bytes", static_cast<long long>(c.max_payload_bytes), 1024, 64 << 20));
    c.max_image_bytes = static_cast<std::size_t>(
        integer(node, "node", "max_image_bytes", static_cast<long long>(c.max_payload_bytes), 1, 64 << 20));
    c.preprocess_workers = static_cast<std::size_t>(integer(node, "node", "preprocess_workers", static_cast<long long>(c.preprocess_workers), 1, 256));
    c.stats_interval = std::chrono::milliseconds(integer(node, "node", "stats_interval_ms", c.stats_interval.count(), 0, 86'400'000));
    c.max_pages = static_cast<int>(integer(node, "node", "max_pages", c.max_pages, 1, 10000));
    c.reply_cache_entries = static_cast<std::size_t>(integer(node, "node", "reply_cache_entries", static_cast<long long>(c.reply_cache_entries), 0, 10'000'000));
    c.reply_cache_ttl = std::chrono::milliseconds(integer(node, "node", "reply_cache_ttl_ms", c.reply_cache_ttl.count(), 0, 86'400'000));
    c.max_waiters_per_id = static_cast<std::size_t>(integer(node, "node", "max_waiters_per_id", static_cast<long long>(c.max_waiters_per_id), 0, 1'000'000));
    c.backlog.max_requests = static_cast<std::size_t>(integer(node, "node", "max_backlog_requests", static_cast<long long>(c.backlog.max_requests), 1, 1'000'000));
    c.backlog.max_bytes = static_cast<std::size_t>(integer(node, "node", "max_backlog_bytes", static_cast<long long>(c.backlog.max_bytes), 1 << 20, 1LL << 36));
    if (const auto f = node["faults"]; f) {
      bool on = false;
      if (!f.IsScalar() || !YAML::convert<bool>::decode(f, on)) throw config_error{"node.faults", "must be true or false"};
      c.faults = on;
    }
    if (const auto f = node["control"]; f) {
      bool on = false;
      if (!f.IsScalar() || !YAML::convert<bool>::decode(f, on)) throw config_error{"node.control", "must be true or false"};
      c.control = on;
    }
    c.max_loaded_models = static_cast<std::size_t>(integer(node, "node", "max_loaded_models", static_cast<long long>(c.max_loaded_models), 0, 100'000));
    c.documents.max_document_pages = static_cast<int>(integer(node, "node", "max_document_pages", c.documents.max_document_pages, 1, 1'000'000));
    c.documents.dpi = static_cast<int>(integer(node, "node", "pdf_dpi", c.documents.dpi, 36, 1200));
    c.documents.max_request_pixels = static_cast<std::uint64_t>(integer(node, "node", "max_document_pixels", static_cast<long long>(c.documents.max_request_pixels), 1, 100'000'000'000));
    c.max_inflight_document_pixels = static_cast<std::uint64_t>(integer(node, "node", "max_inflight_document_pixels", static_cast<long long>(c.max_inflight_document_pixels), 1, 1'000'000'000'000));
    if (c.max_inflight_document_pixels < c.documents.max_request_pixels)
      throw config_error{"node.max_inflight_document_pixels",
                         "is " + std::to_string(c.max_inflight_document_pixels) + ", below node.max_document_pixels (" +
                             std::to_string(c.documents.max_request_pixels) + "): no document could ever be admitted"};
    c.router_supervision = parse_supervision(node["supervision"], "node.supervision");
  }
  const auto nats = root["nats"];
  allow_keys(nats, "nats", {"servers", "max_reconnect", "reconnect_wait_ms", "connect_timeout_ms", "ping_interval_ms",
                            "max_pings_out", "ignore_discovered_servers", "auth", "tls", "inbox_prefix",
                            "max_pending_messages", "max_pending_bytes"});
  if (nats) {
    if (nats["servers"]) c.nats.servers = string_list(nats["servers"], "nats.servers");
    c.nats.max_reconnect = static_cast<int>(integer(nats, "nats", "max_reconnect", c.nats.max_reconnect, -1, 1'000'000));
    c.nats.reconnect_wait = std::chrono::milliseconds(integer(nats, "nats", "reconnect_wait_ms", c.nats.reconnect_wait.count(), 1, 600'000));
    c.nats.connect_timeout = std::chrono::milliseconds(integer(nats, "nats", "connect_timeout_ms", c.nats.connect_timeout.count(), 1, 600'000));
    c.nats.ping_interval = std::chrono::milliseconds(integer(nats, "nats", "ping_interval_ms", c.nats.ping_interval.count(), 10, 3'600'000));
    c.nats.max_pings_out = static_cast<int>(integer(nats, "nats", "max_pings_out", c.nats.max_pings_out, 1, 100));
    c.nats.max_pending_messages = static_cast<int>(integer(nats, "nats", "max_pending_messages", c.nats.max_pending_messages, 1, 10'000'000));
    // A message over the pending limit is dropped even when nothing else is pending: a request of
    // max_payload_bytes must fit.
    c.nats.max_pending_bytes = static_cast<int>(integer(nats, "nats", "max_pending_bytes", c.nats.max_pending_bytes,
                                                        static_cast<long long>(c.max_payload_bytes), 2'000'000'000));
    if (const auto auth = nats["auth"]; auth) {
      allow_keys(auth, "nats.auth", {"user", "password", "password_env", "token", "nkey", "nkey_seed_file", "creds_file"});
      auto& cr = c.nats.credentials;
      cr.user = text(auth, "nats.auth", "user", "");
      cr.password = text(auth, "nats.auth", "password", "");
      if (const auto variable = text(auth, "nats.auth", "password_env", ""); !variable.empty()) {
        if (!cr.password.empty()) throw config_error{"nats.auth.password_env", "give password or password_env, not both"};
        const char* value = std::getenv(variable.c_str());
        if (value == nullptr || *value == '\0')
          throw config_error{"nats.auth.password_env", "the environment has no " + variable + " (or it is empty)"};
        cr.password = value;
      }
      cr.token = text(auth, "nats.auth", "token", "");
      cr.nkey = text(auth, "nats.auth", "nkey", "");
      cr.nkey_seed_file = resolve(base_dir, text(auth, "nats.auth", "nkey_seed_file", ""));
      cr.creds_file = resolve(base_dir, text(auth, "nats.auth", "creds_file", ""));
    }
    if (const auto tls = nats["tls"]; tls) {
      allow_keys(tls, "nats.tls", {"ca_file", "cert_file", "key_file", "server_name"});
      auto& cr = c.nats.credentials;
      cr.tls = true;
      cr.tls_ca_file = resolve(base_dir, text(tls, "nats.tls", "ca_file", ""));
      cr.tls_cert_file = resolve(base_dir, text(tls, "nats.tls", "cert_file", ""));
      cr.tls_key_file = resolve(base_dir, text(tls, "nats.tls", "key_file", ""));
      cr.tls_server_name = text(tls, "nats.tls", "server_name", "");
    }
    c.nats.credentials.inbox_prefix = text(nats, "nats", "inbox_prefix", "");
    if (const auto f = nats["ignore_discovered_servers"]; f) {
      bool on = false;
      if (!f.IsScalar() || !YAML::convert<bool>::decode(f, on))
        throw config_error{"nats.ignore_discovered_servers", "must be true or false"};
      c.nats.ignore_discovered_servers = on;
    }
  }
  const auto models = root["models"];
  if (!models || !models.IsSequence() || models.size() == 0)
    throw config_error{"models", "is required: a non-empty list of the models this node hosts"};
  std::set<std::string> steps, names;
  for (std::size_t i = 0; i < models.size(); ++i) {
    const auto path = "models[" + std::to_string(i) + "]";
    auto h = parse_model(models[i], path, base_dir);
    if (!names.insert(h.model.name).second) throw config_error{path + ".name", "'" + h.model.name + "' is used twice"};
    for (const auto& step : h.model.serves)
      if (!steps.insert(step).second)
        throw config_error{path + ".serves", "another model on this node already serves '" + step + "'"};
    c.models.push_back(std::move(h));
  }
  const auto delivery = root["delivery"];
  allow_keys(delivery, "delivery", {"classify", "ocr", "extract", "process"});
  if (delivery)
    for (const auto& kv : delivery) {
      const auto op = kv.first.as<std::string>();
      const auto mode = text(delivery, "delivery", op.c_str(), "core");
      if (mode != "core" && mode != "durable")
        throw config_error{"delivery." + op, "must be 'core' or 'durable', got '" + mode + "'"};
      if (mode == "durable") c.durable_ops.insert(op);
    }
  const auto js = root["jetstream"];
  allow_keys(js, "jetstream", {"stream", "replicas", "ack_wait_ms", "max_deliver", "max_in_flight"});
  if (js) {
    c.work_queue.stream = text(js, "jetstream", "stream", c.work_queue.stream);
    c.work_queue.replicas = static_cast<int>(integer(js, "jetstream", "replicas", c.work_queue.replicas, 1, 5));
    c.work_queue.ack_wait = std::chrono::milliseconds(integer(js, "jetstream", "ack_wait_ms", c.work_queue.ack_wait.count(), 100, 3'600'000));
    c.max_deliver = static_cast<std::uint64_t>(integer(js, "jetstream", "max_deliver", static_cast<long long>(c.max_deliver), 1, 1000));
    c.work_queue.max_in_flight = static_cast<int>(integer(js, "jetstream", "max_in_flight", c.work_queue.max_in_flight, 1, 100'000));
  }
  const auto pipelines = root["pipelines"];
  allow_keys(pipelines, "pipelines", {"classify", "ocr", "extract", "process"});
  if (pipelines)
    for (const auto& kv : pipelines) {
      const auto op = kv.first.as<std::string>();
      const auto path = "pipelines." + op;
      pipeline steps_of_op;
      for (const auto& name : string_list(kv.second, path)) {
        auto step = parse_step(name);
        if (!step) throw config_error{path, "unknown step '" + name + "' (steps: orient, classify, ocr, extract)"};
        steps_of_op.push_back(*step);
      }
      if (auto problem = pipeline_problem(op, steps_of_op); !problem.empty()) throw config_error{path, problem};
      c.pipelines[op] = std::move(steps_of_op);
    }
  // `http:` (issue 11 §3): health probes and metrics; off without it.
  const auto http = root["http"];
  allow_keys(http, "http", {"listen"});
  if (http) {
    c.http.listen = text(http, "http", "listen", "", true);
    if (auto address = parse_listen_address(c.http.listen); !address) throw config_error{"http.listen", address.err().message};
  }
  // Credentials: the file's, completed from INFERMESH_NATS_* (never the command line); checked once, here.
  c.nats.credentials = with_environment(c.nats.credentials);
  if (auto problem = c.nats.credentials.problem()) {
    const auto colon = problem->find(": ");
    throw config_error{"nats." + problem->substr(0, colon), colon == std::string::npos ? *problem : problem->substr(colon + 2)};
  }
  return c;
}


std::string text_of_name(const YAML::Node& root) {
  const auto n = root["node"];
  return n.IsMap() && n["name"] && n["name"].IsScalar() ? n["name"].as<std::string>() : "";
}

/// `hosts:` of a cluster file: names unique, each with an address.
std::vector<cluster_host> parse_hosts(const YAML::Node& root) {
  const auto hosts = root["hosts"];
  if (!hosts) return cluster_plan{}.hosts;
  if (!hosts.IsSequence() || hosts.size() == 0) throw config_error{"hosts", "must be a non-empty list of {name, address}"};
  std::vector<cluster_host> out;
  std::set<std::string> names;
  for (std::size_t i = 0; i < hosts.size(); ++i) {
    const auto path = "hosts[" + std::to_string(i) + "]";
    allow_keys(hosts[i], path, {"name", "address"});
    cluster_host h{text(hosts[i], path, "name", "", true), text(hosts[i], path, "address", "", true)};
    if (!names.insert(h.name).second) throw config_error{path + ".name", "'" + h.name + "' is used twice"};
    out.push_back(std::move(h));
  }
  return out;
}

/// The host named at `path` (`key`), or the only host when the key is absent and there is one.
std::string host_of(const YAML::Node& map, const std::string& path, const std::vector<cluster_host>& hosts) {
  std::string names;
  for (const auto& h : hosts) names += (names.empty() ? "" : ", ") + h.name;
  if (!map["host"]) {
    if (hosts.size() == 1) return hosts.front().name;
    throw config_error{join(path, "host"), "is required when there are several hosts (" + names + ")"};
  }
  const auto name = text(map, path, "host", "", true);
  for (const auto& h : hosts)
    if (h.name == name) return name;
  throw config_error{join(path, "host"), "'" + name + "' is not one of hosts: " + names};
}

/// `nats.cluster` of a cluster file: the NATS servers to launch. Ports on one host must not collide.
void parse_launched_nats(const YAML::Node& root, cluster_plan& plan) {
  const auto nats = root["nats"];
  if (!nats || !nats.IsMap() || !nats["cluster"]) return;
  const auto cluster = nats["cluster"];
  allow_keys(cluster, "nats.cluster", {"name", "lame_duck_ms", "servers", "authorization"});
  plan.nats_cluster_name = text(cluster, "nats.cluster", "name", plan.nats_cluster_name);
  plan.lame_duck = std::chrono::milliseconds(integer(cluster, "nats.cluster", "lame_duck_ms", plan.lame_duck.count(), 30'000, 3'600'000));
  if (nats["servers"])
    throw config_error{"nats.servers", "is derived from nats.cluster (the servers this file launches): give one of the two"};
  const auto servers = cluster["servers"];
  if (!servers || !servers.IsSequence() || servers.size() == 0)
    throw config_error{"nats.cluster.servers", "must be a non-empty list of {name, host, client_port, cluster_port, monitor_port, store_dir}"};
  std::set<std::string> names;
  std::map<std::pair<std::string, long long>, std::string> ports;  // (host, port) -> the key that took it
  for (std::size_t i = 0; i < servers.size(); ++i) {
    const auto path = "nats.cluster.servers[" + std::to_string(i) + "]";
    allow_keys(servers[i], path, {"name", "host", "client_port", "cluster_port", "monitor_port", "store_dir"});
    nats_server_plan s;
    s.name = text(servers[i], path, "name", "", true);
    if (s.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != std::string::npos)
      throw config_error{path + ".name", "may hold only letters, digits, '_' and '-', got '" + s.name + "'"};
    if (!names.insert(s.name).second) throw config_error{path + ".name", "'" + s.name + "' is used twice"};
    s.host = host_of(servers[i], path, plan.hosts);
    s.address = plan.host(s.host)->address;
    s.client_port = static_cast<int>(integer(servers[i], path, "client_port", s.client_port, 1, 65535));
    s.cluster_port = static_cast<int>(integer(servers[i], path, "cluster_port", s.cluster_port, 1, 65535));
    s.monitor_port = static_cast<int>(integer(servers[i], path, "monitor_port", s.monitor_port, 1, 65535));
    for (const auto& [key, port] : {std::pair<const char*, int>{"client_port", s.client_port},
                                    {"cluster_port", s.cluster_port}, {"monitor_port", s.monitor_port}}) {
      auto [at, fresh] = ports.emplace(std::make_pair(s.host, port), path + "." + key);
      if (!fresh) throw config_error{path + "." + key, std::to_string(port) + " on host '" + s.host + "' is taken by " + at->second};
    }
    s.store_dir = text(servers[i], path, "store_dir", "jetstream/" + s.name);
    plan.nats_servers.push_back(std::move(s));
  }
}

cluster_plan parse_plan(const YAML::Node& root) {
  cluster_plan plan;
  plan.hosts = parse_hosts(root);
  parse_launched_nats(root, plan);
  return plan;
}

/// A cluster file (`nodes:` list, shared `nats` and `pipelines`) seen as the config of the node `name`.
YAML::Node select_node(const YAML::Node& root, const std::string& name) {
  allow_keys(root, "", {"hosts", "nats", "pipelines", "nodes", "delivery", "jetstream", "supervision", "base_dir"});
  const auto plan = parse_plan(root);
  const auto nodes = root["nodes"];
  if (!nodes.IsSequence() || nodes.size() == 0) throw config_error{"nodes", "must be a non-empty list of nodes"};
  std::string names;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const auto path = "nodes[" + std::to_string(i) + "]";
    allow_keys(nodes[i], path, {"host", "node", "models", "pipelines", "http", "nats"});
    const auto node_name = checked_node_name(nodes[i]["node"], path + ".node", true);
    host_of(nodes[i], path, plan.hosts);
    names += (names.empty() ? "" : ", ") + node_name;
    if (node_name != name) continue;
    YAML::Node merged(YAML::NodeType::Map);
    merged["node"] = nodes[i]["node"];
    merged["models"] = nodes[i]["models"];
    if (root["nats"]) merged["nats"] = root["nats"];
    if (!plan.nats_servers.empty()) {  // the node is given every launched server's client URL
      YAML::Node nats(YAML::NodeType::Map);
      for (const auto& kv : root["nats"])
        if (kv.first.as<std::string>() != "cluster") nats[kv.first] = kv.second;
      for (const auto& url : plan.nats_urls()) nats["servers"].push_back(url);
      merged["nats"] = nats;
    }
    if (const auto own = nodes[i]["nats"]; own) {  // this node reaches NATS its own way (a proxy, a NAT)
      allow_keys(own, path + ".nats", {"servers"});
      YAML::Node nats(YAML::NodeType::Map);
      if (merged["nats"])
        for (const auto& kv : merged["nats"])
          if (kv.first.as<std::string>() != "servers" && kv.first.as<std::string>() != "cluster") nats[kv.first] = kv.second;
      if (!own["servers"]) throw config_error{path + ".nats.servers", "is required (the URLs this node connects to)"};
      string_list(own["servers"], path + ".nats.servers");
      nats["servers"] = own["servers"];
      nats["ignore_discovered_servers"] = true;  // the addresses the servers announce are not this node's way
      merged["nats"] = nats;
    }
    if (root["delivery"]) merged["delivery"] = root["delivery"];
    if (root["jetstream"]) merged["jetstream"] = root["jetstream"];
    if (nodes[i]["http"]) merged["http"] = nodes[i]["http"];  // per node: each listens on its own address
    if (nodes[i]["pipelines"]) merged["pipelines"] = nodes[i]["pipelines"];
    else if (root["pipelines"]) merged["pipelines"] = root["pipelines"];
    return merged;
  }
  throw config_error{"nodes", name.empty() ? "this is a cluster file: choose a node with --node (one of: " + names + ")"
                                           : "has no node named '" + name + "' (nodes: " + names + ")"};
}

}  // namespace

outcome<cluster_plan> parse_cluster_plan(const std::string& yaml, const std::string& source) {
  try {
    const auto root = YAML::Load(yaml);
    if (!root.IsMap() || !root["nodes"] || !root["nodes"].IsSequence())
      return error{error_code::bad_request, source + ": nodes: is required in a cluster file (a list of nodes)"};
    cluster_plan plan = parse_plan(root);
    const auto launched = root["nats"] && root["nats"].IsMap() ? root["nats"]["cluster"] : YAML::Node();
    if (const auto file = launched ? text(launched, "nats.cluster", "authorization", "") : ""; !file.empty()) {
      auto base = fs::path(source).parent_path().string();
      if (const auto b = root["base_dir"]; b && b.IsScalar()) base = resolve(base, b.as<std::string>());
      plan.nats_authorization_file = resolve(base, file);
      std::ifstream in(plan.nats_authorization_file);
      std::ostringstream text;
      text << in.rdbuf();
      if (!in || text.str().empty())
        throw config_error{"nats.cluster.authorization", "cannot read '" + plan.nats_authorization_file + "' (or it is empty)"};
      plan.nats_authorization = text.str();
    }
    for (std::size_t i = 0; i < root["nodes"].size(); ++i) {
      const auto path = "nodes[" + std::to_string(i) + "]";
      const auto name = checked_node_name(root["nodes"][i]["node"], path + ".node", true);
      if (plan.node_host.count(name)) throw config_error{path + ".node.name", "'" + name + "' is used twice"};
      plan.nodes.push_back(name);
      plan.node_host[name] = host_of(root["nodes"][i], path, plan.hosts);
    }
    allow_keys(root["supervision"], "supervision", {"max_restarts", "period_ms", "backoff_ms", "max_backoff_ms"});
    plan.node_restarts = parse_restarts(root["supervision"], "supervision", plan.node_restarts);
    return plan;
  } catch (const config_error& e) {
    return error{error_code::bad_request, source + ": " + e.key + ": " + e.message};
  } catch (const YAML::Exception& e) {
    return error{error_code::bad_request, source + ": invalid YAML: " + e.what()};
  }
}

namespace {

outcome<node_config> parse_node_config(const std::string& yaml, const std::string& base_dir, const std::string& source,
                                       const std::string& node_name) {
  try {
    auto root = YAML::Load(yaml);
    const bool cluster_file = root.IsMap() && root["nodes"];
    std::string base = base_dir;
    if (const auto b = root.IsMap() ? root["base_dir"] : YAML::Node(); b) {  // a derived file (infermesh simulate's)
      if (!b.IsScalar() || b.as<std::string>().empty()) throw config_error{"base_dir", "must be a folder path"};
      base = resolve(base_dir, b.as<std::string>());
      root.remove("base_dir");
    }
    if (cluster_file) root = select_node(root, node_name);
    else if (!node_name.empty() && !(root.IsMap() && root["node"] && text_of_name(root) == node_name))
      throw config_error{"node.name", "is not '" + node_name + "' (--node picks a node of a cluster file)"};
    auto c = parse(root, base);
    c.source = source;
    if (cluster_file) c.selected_node = node_name;
    if (c.node_name.empty()) {
      char host[256] = {0};
      gethostname(host, sizeof host - 1);
      std::string token(host, std::min<std::size_t>(std::strlen(host), 48));  // room for "-<pid>" within 64
      for (auto& ch : token)  // a FQDN's dots would split the subject token checked_node_name guards
        if (static_cast<unsigned char>(ch) <= 0x20 || ch == 0x7f || ch == '.' || ch == '*' || ch == '>') ch = '-';
      c.node_name = token + "-" + std::to_string(getpid());
    }
    return c;
  } catch (const config_error& e) {
    return error{error_code::bad_request, source + ": " + e.key + ": " + e.message};
  } catch (const YAML::Exception& e) {
    return error{error_code::bad_request, source + ": invalid YAML: " + e.what()};
  }
}

}  // namespace

outcome<node_config> parse_config(const std::string& text, const std::string& base_dir, const std::string& source,
                                  const std::string& node_name) {
  return parse_node_config(text, base_dir, source, node_name);
}

const cluster_host* cluster_plan::host(const std::string& name) const {
  for (const auto& h : hosts)
    if (h.name == name) return &h;
  return nullptr;
}

std::vector<std::string> cluster_plan::nats_urls() const {
  std::vector<std::string> out;
  for (const auto& s : nats_servers) out.push_back(s.client_url());
  return out;
}

outcome<node_config> load_config_file(const std::string& path, const std::string& node_name) {
  std::ifstream in(path);
  if (!in) return error{error_code::not_found, "cannot read config file '" + path + "'"};
  std::stringstream text;
  text << in.rdbuf();
  const auto base = fs::absolute(path).parent_path().string();
  return parse_config(text.str(), base, path, node_name);
}

}  // namespace infermesh
