#include "simulator/scenario.hpp"

#include <cerrno>
#include <cstdlib>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>

#include "messages/subjects.hpp"

namespace infermesh::sim {
namespace {

namespace fs = std::filesystem;

/// Thrown inside this file only; parse_scenario turns it into a `bad_request` naming the key.
struct scenario_error {
  std::string key;
  std::string message;
};

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }
std::string at_index(const std::string& path, std::size_t i) { return path + "[" + std::to_string(i) + "]"; }

std::string list_of(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

std::string scalar_text(const YAML::Node& n) { return n.IsScalar() ? n.as<std::string>() : "(not a scalar)"; }

void require_map(const YAML::Node& n, const std::string& path) {
  if (!n.IsMap()) throw scenario_error{path, "must be a map"};
}

void allow_keys(const YAML::Node& map, const std::string& path, const std::vector<std::string>& known) {
  require_map(map, path);
  for (const auto& kv : map) {
    const auto key = kv.first.as<std::string>();
    if (std::find(known.begin(), known.end(), key) == known.end())
      throw scenario_error{join(path, key), "unknown key (known here: " + list_of(known) + ")"};
  }
}

bool present(const YAML::Node& map, const char* key) { return map[key] && !map[key].IsNull(); }

std::string text(const YAML::Node& map, const std::string& path, const char* key, const std::string& fallback) {
  if (!present(map, key)) return fallback;
  const auto n = map[key];
  if (!n.IsScalar() || n.as<std::string>().empty()) throw scenario_error{join(path, key), "must be a non-empty string"};
  return n.as<std::string>();
}

long long integer(const YAML::Node& n, const std::string& key, long long min, long long max) {
  long long v = 0;
  if (!n.IsScalar() || !YAML::convert<long long>::decode(n, v) || v < min || v > max)
    throw scenario_error{key, "must be an integer in " + std::to_string(min) + ".." + std::to_string(max) + ", got '" +
                                  scalar_text(n) + "'"};
  return v;
}

double number(const YAML::Node& map, const std::string& path, const char* key, double min, double max,
              bool min_excluded) {
  const auto n = map[key];
  double v = 0;
  const auto plain = [](double d) {  // 1000000, not the stream's 1e+06
    std::ostringstream o;
    if (d == std::floor(d) && std::abs(d) < 1e15) o << static_cast<long long>(d);
    else o << d;
    return o.str();
  };
  std::ostringstream range;
  range << (min_excluded ? "> " : ">= ") << plain(min) << " and <= " << plain(max);
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v) || v < min || v > max ||
      (min_excluded && v == min))
    throw scenario_error{join(path, key), "must be a number " + range.str() + ", got '" + scalar_text(n) + "'"};
  return v;
}

bool boolean(const YAML::Node& n, const std::string& key) {
  bool v = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
    throw scenario_error{key, "must be true or false, got '" + scalar_text(n) + "'"};
  return v;
}

/// The longest duration a scenario may write: a month keeps every sum of them far from overflow.
constexpr long long max_duration_ms = 30LL * 24 * 3600 * 1000;

millis duration_at(const YAML::Node& n, const std::string& key, millis min) {
  const auto d = n.IsScalar() ? parse_duration(n.as<std::string>()) : std::nullopt;
  if (!d) throw scenario_error{key, "must be a duration (\"90s\", \"500ms\", \"2m\", \"1h\" or a number of ms), got '" +
                                        scalar_text(n) + "'"};
  if (*d < min) throw scenario_error{key, "must be at least " + std::to_string(min.count()) + " ms"};
  if (d->count() > max_duration_ms) throw scenario_error{key, "must be at most 30 days"};
  return *d;
}

millis duration(const YAML::Node& map, const std::string& path, const char* key, millis fallback, millis min) {
  if (!present(map, key)) return fallback;
  return duration_at(map[key], join(path, key), min);
}

template <class T>
T choice(const YAML::Node& map, const std::string& path, const char* key, T fallback,
         std::initializer_list<std::pair<const char*, T>> names) {
  if (!present(map, key)) return fallback;
  const auto given = scalar_text(map[key]);
  std::vector<std::string> list;
  for (const auto& [name, v] : names) {
    if (given == name) return v;
    list.emplace_back(name);
  }
  throw scenario_error{join(path, key), "must be one of " + list_of(list) + ", got '" + given + "'"};
}

std::string known_op(const YAML::Node& n, const std::string& key) {
  const auto op = scalar_text(n);
  if (!n.IsScalar() || !wire::is_op(op))
    throw scenario_error{key, "unknown op '" + op + "' (ops: classify, ocr, extract, process)"};
  return op;
}

std::string resolve(const std::string& base_dir, const std::string& path) {
  if (path.empty()) return path;
  auto out = (base_dir.empty() || fs::path(path).is_absolute() ? fs::path(path) : fs::path(base_dir) / path)
                 .lexically_normal()
                 .string();
  if (out.size() > 1 && out.back() == '/') out.pop_back();  // "inputs/" and "inputs" are one folder
  return out;
}

cluster_spec parse_cluster(const YAML::Node& n, const std::string& base_dir) {
  const std::string path = "cluster";
  if (!n) throw scenario_error{path, "is required (file: a cluster file, or attach: NATS URLs)"};
  allow_keys(n, path, {"file", "attach", "ports", "hosts", "ready_timeout_ms"});
  cluster_spec c;
  const bool file = present(n, "file"), attach = present(n, "attach");
  if (file == attach) throw scenario_error{path, "needs exactly one of file or attach"};
  if (file) c.file = resolve(base_dir, text(n, path, "file", ""));
  if (attach) {
    const auto urls = n["attach"];
    if (!urls.IsSequence() || urls.size() == 0)
      throw scenario_error{"cluster.attach", "must be a non-empty list of NATS URLs"};
    for (std::size_t i = 0; i < urls.size(); ++i) {
      if (!urls[i].IsScalar() || urls[i].as<std::string>().empty())
        throw scenario_error{at_index("cluster.attach", i), "must be a NATS URL"};
      c.attach.push_back(urls[i].as<std::string>());
    }
    // The simulator launches nothing when it attaches: these two would silently do nothing.
    for (const char* key : {"ports", "hosts"})
      if (present(n, key)) throw scenario_error{join(path, key), "applies to a launched cluster (file:), not attach"};
  }
  c.free_ports = choice(n, path, "ports", true, {{"free", true}, {"as_is", false}});
  c.namespaces = choice(n, path, "hosts", false, {{"local", false}, {"namespaces", true}});
  c.ready_timeout = duration(n, path, "ready_timeout_ms", c.ready_timeout, millis(1));
  return c;
}

/// Open-loop arrivals beyond this many would not fit a run's memory (each is a request record).
constexpr double max_arrivals = 50e6;

workload_spec parse_workload(const YAML::Node& n, const std::string& base_dir) {
  const std::string path = "workload";
  workload_spec w;
  if (!n) return w;
  allow_keys(n, path,
             {"arrivals", "rate", "clients", "max_in_flight", "mix", "inputs", "durable", "attempts",
              "attempt_timeout_ms", "backoff_ms", "timeout_ms", "duration", "warmup"});
  using A = workload_spec::arrivals;
  w.kind = choice(n, path, "arrivals", A::poisson,
                  {{"poisson", A::poisson}, {"constant", A::constant}, {"closed", A::closed}});
  const bool closed = w.kind == A::closed;
  // Keys of the other loop are refused: a rate on a closed loop would read as a promise it does not keep.
  for (const char* key : {"rate", "max_in_flight"})
    if (closed && present(n, key))
      throw scenario_error{join(path, key), "applies to open loop (poisson, constant), not closed"};
  if (!closed && present(n, "clients")) throw scenario_error{"workload.clients", "applies to arrivals: closed only"};
  if (present(n, "rate")) w.rate = number(n, path, "rate", 0, 1e6, true);
  if (present(n, "clients")) w.clients = static_cast<int>(integer(n["clients"], "workload.clients", 1, 100000));
  if (present(n, "max_in_flight"))
    w.max_in_flight = static_cast<int>(integer(n["max_in_flight"], "workload.max_in_flight", 1, 1000000));
  if (present(n, "mix")) {
    const auto mix = n["mix"];
    if (!mix.IsMap() || mix.size() == 0)
      throw scenario_error{"workload.mix", "must be a map of op to weight ({classify: 3, process: 1})"};
    w.mix.clear();
    double total = 0;
    for (const auto& kv : mix) {
      const auto key = "workload.mix." + kv.first.as<std::string>();
      const auto op = known_op(kv.first, key);
      double weight = 0;
      if (!kv.second.IsScalar() || !YAML::convert<double>::decode(kv.second, weight) || !std::isfinite(weight) ||
          weight < 0)
        throw scenario_error{key, "must be a weight >= 0, got '" + scalar_text(kv.second) + "'"};
      w.mix.push_back({op, weight});
      total += weight;
    }
    if (total <= 0) throw scenario_error{"workload.mix", "needs at least one weight > 0"};
    // Sorted by op, so the same mix written in another order draws the same ops from the same seed.
    std::sort(w.mix.begin(), w.mix.end(), [](const op_weight& a, const op_weight& b) { return a.op < b.op; });
  }
  w.inputs = resolve(base_dir, text(n, path, "inputs", ""));
  if (present(n, "durable")) {
    const auto d = n["durable"];
    if (d.IsSequence()) {
      for (std::size_t i = 0; i < d.size(); ++i) w.durable[known_op(d[i], at_index("workload.durable", i))] = true;
    } else if (d.IsMap()) {
      for (const auto& kv : d) {
        const auto key = "workload.durable." + kv.first.as<std::string>();
        w.durable[known_op(kv.first, key)] = boolean(kv.second, key);
      }
    } else {
      throw scenario_error{"workload.durable", "must be a list of ops or a map of op to true/false"};
    }
  }
  if (present(n, "attempts")) w.attempts = static_cast<int>(integer(n["attempts"], "workload.attempts", 1, 100));
  w.attempt_timeout = duration(n, path, "attempt_timeout_ms", w.attempt_timeout, millis(1));
  w.backoff = duration(n, path, "backoff_ms", w.backoff, millis(0));
  w.timeout = duration(n, path, "timeout_ms", w.timeout, millis(1));
  w.duration = duration(n, path, "duration", w.duration, millis(1));
  w.warmup = duration(n, path, "warmup", w.warmup, millis(0));
  if (!closed) {
    const double seconds = static_cast<double>((w.warmup + w.duration).count()) / 1000.0;
    if (w.rate * seconds > max_arrivals)
      throw scenario_error{"workload.rate", std::to_string(static_cast<long long>(w.rate * seconds)) +
                                                " arrivals over warmup + duration; at most 50000000 fit one run"};
  }
  return w;
}

steady_state_spec parse_steady_state(const YAML::Node& n) {
  const std::string path = "steady_state";
  steady_state_spec s;
  if (!n) return s;
  allow_keys(n, path, {"p99_ms", "error_rate", "throughput_rps", "lost", "during", "recovery", "window"});
  if (present(n, "p99_ms")) s.p99_ms = number(n, path, "p99_ms", 0, 1e9, true);
  if (present(n, "error_rate")) s.error_rate = number(n, path, "error_rate", 0, 1, false);
  if (present(n, "throughput_rps")) s.throughput_rps = number(n, path, "throughput_rps", 0, 1e9, true);
  if (n["lost"]) {
    long long lost = -1;
    if (!n["lost"].IsScalar() || !YAML::convert<long long>::decode(n["lost"], lost) || lost != 0)
      throw scenario_error{"steady_state.lost", "must be 0 (a lost request always fails the run), got '" +
                                                    scalar_text(n["lost"]) + "'"};
  }
  if (const auto d = n["during"]; d) {
    allow_keys(d, "steady_state.during", {"p99_ms", "error_rate"});
    if (present(d, "p99_ms")) s.during_p99_ms = number(d, "steady_state.during", "p99_ms", 0, 1e9, true);
    if (present(d, "error_rate")) s.during_error_rate = number(d, "steady_state.during", "error_rate", 0, 1, false);
  }
  s.recovery = duration(n, path, "recovery", s.recovery, millis(0));
  s.window = duration(n, path, "window", s.window, millis(1));
  return s;
}

// ---- faults ----------------------------------------------------------------------------------------------

/// What a fault kind may be aimed at.
enum class aim { process, nats_server, node, host, stream_leader, consumer_leader };

enum class param_type { name, actor, op, peers, flag, integer };

struct param_rule {
  const char* name;
  param_type type;
  bool required;
  long long min = 0, max = 0;  // integer params only
};

struct kind_rule {
  const char* kind;
  const char* description;
  aim target;
  bool held;           // needs a duration > 0: the fault is a state that lasts, undone at its end
  bool launched_only;  // acts on processes, proxies or namespaces the simulator made: not on an attached cluster
  std::vector<param_rule> params;
};

const std::vector<kind_rule>& kind_rules() {
  static const std::vector<kind_rule> rules = {
      // kind, description, target, held, launched_only, params
      {"kill", "SIGKILL a node or NATS server; the launcher restarts it", aim::process, false, true, {}},
      {"term", "SIGTERM a node or NATS server: it drains and stays stopped until the fault ends", aim::process,
       true, true, {}},
      {"pause", "SIGSTOP a node or NATS server (a hang); SIGCONT at the end", aim::process, true, true, {}},
      {"restart", "SIGTERM a node or NATS server, then start it again at once", aim::process, false, true, {}},
      {"crash", "crash an actor of a node (model, batcher, step, pool, engine, router); its supervisor restarts it",
       aim::node, false, false, {{"model", param_type::name, false}, {"actor", param_type::actor, false}}},
      {"slow", "make every forward pass of a model `ms` longer, until the fault ends", aim::node, true, false,
       {{"model", param_type::name, true}, {"ms", param_type::integer, true, 1, 600000}}},
      {"fail", "fail the model's next `count` batches `internal`", aim::node, false, false,
       {{"model", param_type::name, true}, {"count", param_type::integer, true, 1, 1000000}}},
      {"fail-load", "fail the model's next `count` loads (its replacements after a crash)", aim::node, false, false,
       {{"model", param_type::name, true}, {"count", param_type::integer, true, 1, 1000000}}},
      {"lame-duck", "put a NATS server in lame-duck mode (clients move away, it exits); started again at the end",
       aim::nats_server, true, true, {}},
      {"stepdown-stream", "step down the JetStream leader of a stream (default the work-queue stream)",
       aim::stream_leader, false, false, {{"stream", param_type::name, false}}},
      {"stepdown-consumer", "step down the JetStream leader of an op's durable consumer", aim::consumer_leader,
       false, false,
       {{"op", param_type::op, false}, {"consumer", param_type::name, false}, {"stream", param_type::name, false}}},
      {"partition", "cut a host off from its peers (nftables in its namespace); healed at the end", aim::host, true,
       true, {{"peers", param_type::peers, false}, {"one_way", param_type::flag, false}}},
      {"link-down", "take a host's network link down; up again at the end", aim::host, true, true, {}},
      {"latency", "delay every frame on a node's link to NATS by `ms` (+- `jitter_ms`)", aim::node, true, true,
       {{"ms", param_type::integer, true, 1, 60000}, {"jitter_ms", param_type::integer, false, 0, 60000}}},
      {"bandwidth", "limit a node's link to NATS to `kbps` kilobytes per second", aim::node, true, true,
       {{"kbps", param_type::integer, true, 1, 10000000}}},
      {"blackhole", "drop everything on a node's link to NATS (connections stay open)", aim::node, true, true, {}},
      {"reset", "reset a node's connections to NATS (no duration: once; with one: every connection while it lasts)",
       aim::node, false, true, {}},
      {"slice", "cut frames on a node's link to NATS into `bytes`-sized pieces, `delay_us` apart", aim::node, true,
       true, {{"bytes", param_type::integer, true, 1, 65536}, {"delay_us", param_type::integer, false, 0, 1000000}}},
  };
  return rules;
}

const kind_rule* rule_of(const std::string& kind) {
  for (const auto& r : kind_rules())
    if (kind == r.kind) return &r;
  return nullptr;
}

std::vector<std::string> kind_names() {
  std::vector<std::string> names;
  for (const auto& r : kind_rules()) names.emplace_back(r.kind);
  return names;
}

std::string describe_target(const target_spec& t) {
  if (!t.node.empty()) return "{node: " + t.node + "}";
  if (!t.nats.empty()) return "{nats: " + t.nats + "}";
  if (!t.host.empty()) return "{host: " + t.host + "}";
  if (!t.role.empty()) return "{role: " + t.role + "}";
  return "no target";
}

target_spec parse_target(const YAML::Node& n, const std::string& path) {
  allow_keys(n, path, {"node", "nats", "host", "role", "serves", "of", "op", "choose", "percent"});
  target_spec t;
  t.node = text(n, path, "node", "");
  t.nats = text(n, path, "nats", "");
  t.host = text(n, path, "host", "");
  t.role = text(n, path, "role", "");
  const int selectors = !t.node.empty() + !t.nats.empty() + !t.host.empty() + !t.role.empty();
  if (selectors != 1) throw scenario_error{path, "needs exactly one of node, nats, host or role"};
  if (!t.role.empty()) {
    static const std::vector<std::string> roles{"node", "nats", "host", "consumer-leader", "stream-leader"};
    if (std::find(roles.begin(), roles.end(), t.role) == roles.end())
      throw scenario_error{path + ".role", "must be one of " + list_of(roles) + ", got '" + t.role + "'"};
  }
  // Each refinement applies to one role; elsewhere it would be ignored, so it is refused.
  if (present(n, "serves")) {
    if (t.role != "node") throw scenario_error{path + ".serves", "applies to role: node only"};
    t.serves = known_op(n["serves"], path + ".serves");
  }
  if (present(n, "of")) {
    if (t.role != "nats") throw scenario_error{path + ".of", "applies to role: nats only"};
    t.of = text(n, path, "of", "");
  }
  if (present(n, "op")) {
    if (t.role != "consumer-leader") throw scenario_error{path + ".op", "applies to role: consumer-leader only"};
    t.op = known_op(n["op"], path + ".op");
  }
  if (t.role == "consumer-leader" && t.op.empty())
    throw scenario_error{path + ".op", "is required with role: consumer-leader (whose consumer: an op)"};
  if (present(n, "choose") && t.role.empty())
    throw scenario_error{path + ".choose", "applies to role: targets (a name is one target already)"};
  using C = target_spec::choice;
  t.choose = choice(n, path, "choose", C::one, {{"one", C::one}, {"all", C::all}, {"percent", C::percent}});
  if (t.choose == C::percent) {
    if (!present(n, "percent")) throw scenario_error{path + ".percent", "is required with choose: percent"};
    t.percent = number(n, path, "percent", 0, 100, true);
  } else if (present(n, "percent")) {
    throw scenario_error{path + ".percent", "applies to choose: percent only"};
  }
  return t;
}

/// Whether `t` is something a fault of aim `a` can hit; `what` says what it needs, for the error.
bool fits(aim a, const target_spec& t, std::string& what) {
  const auto role_in = [&](std::initializer_list<const char*> roles) {
    for (const char* r : roles)
      if (t.role == r) return true;
    return false;
  };
  switch (a) {
    case aim::process:
      what = "a node or NATS server target ({node: NAME}, {nats: NAME}, or role node, nats, stream-leader, "
             "consumer-leader)";
      return !t.node.empty() || !t.nats.empty() || role_in({"node", "nats", "stream-leader", "consumer-leader"});
    case aim::nats_server:
      what = "a NATS server target ({nats: NAME}, or role nats, stream-leader, consumer-leader)";
      return !t.nats.empty() || role_in({"nats", "stream-leader", "consumer-leader"});
    case aim::node:
      what = "a node target ({node: NAME} or {role: node})";
      return !t.node.empty() || t.role == "node";
    case aim::host:
      what = "a host target ({host: NAME} or {role: host})";
      return !t.host.empty() || t.role == "host";
    case aim::stream_leader:
      what = "no target, or {role: stream-leader}";
      return t.role == "stream-leader";
    case aim::consumer_leader:
      what = "no target, or {role: consumer-leader}";
      return t.role == "consumer-leader";
  }
  return false;
}

std::string param_value(const YAML::Node& n, const param_rule& rule, const std::string& key) {
  switch (rule.type) {
    case param_type::name:
      if (!n.IsScalar() || n.as<std::string>().empty()) throw scenario_error{key, "must be a non-empty name"};
      return n.as<std::string>();
    case param_type::actor: {
      static const std::vector<std::string> actors{"model", "batcher", "step", "pool", "engine", "router"};
      const auto a = scalar_text(n);
      if (std::find(actors.begin(), actors.end(), a) == actors.end())
        throw scenario_error{key, "must be one of " + list_of(actors) + ", got '" + a + "'"};
      return a;
    }
    case param_type::op:
      return known_op(n, key);
    case param_type::peers: {
      // A comma list or a YAML list; stored as the comma list either way.
      std::vector<std::string> peers;
      if (n.IsSequence()) {
        for (std::size_t i = 0; i < n.size(); ++i) {
          if (!n[i].IsScalar() || n[i].as<std::string>().empty())
            throw scenario_error{at_index(key, i), "must be a host name"};
          peers.push_back(n[i].as<std::string>());
        }
      } else if (n.IsScalar()) {
        std::stringstream in(n.as<std::string>());
        for (std::string p; std::getline(in, p, ',');) {
          p.erase(0, p.find_first_not_of(' '));
          p.erase(p.find_last_not_of(' ') + 1);
          if (p.empty())
            throw scenario_error{key, "must be a comma list of host names, got '" + n.as<std::string>() + "'"};
          peers.push_back(p);
        }
      }
      if (peers.empty()) throw scenario_error{key, "must be a comma list of host names (absent: all other hosts)"};
      std::string joined;
      for (const auto& p : peers) joined += (joined.empty() ? "" : ",") + p;
      return joined;
    }
    case param_type::flag:
      return boolean(n, key) ? "true" : "false";
    case param_type::integer:
      return std::to_string(integer(n, key, rule.min, rule.max));
  }
  return {};
}

/// The keys a single fault map may hold besides its kind's params.
const std::vector<std::string> fault_keys{"at", "kind", "target", "duration", "params", "every", "repeat"};
const std::vector<std::string> group_keys{"serial", "parallel", "at", "every", "repeat"};

void parse_repetition(const YAML::Node& n, const std::string& path, fault_spec& f) {
  if (present(n, "every")) f.every = duration_at(n["every"], path + ".every", millis(1));
  if (present(n, "repeat")) {
    if (!f.every) throw scenario_error{path + ".repeat", "needs every (how far apart the repetitions start)"};
    f.repeat = static_cast<int>(integer(n["repeat"], path + ".repeat", 1, 100000));
  } else if (f.every) {
    f.repeat_to_end = true;
  }
}

fault_spec parse_fault(const YAML::Node& n, const std::string& path, const cluster_spec& cluster);

fault_spec parse_group(const YAML::Node& n, const std::string& path, const cluster_spec& cluster) {
  allow_keys(n, path, group_keys);
  // Presence, not present(): an empty `serial:` is a group with no members, reported as such.
  const bool serial = static_cast<bool>(n["serial"]), parallel = static_cast<bool>(n["parallel"]);
  if (serial && parallel) throw scenario_error{path, "needs one of serial or parallel, not both"};
  fault_spec g;
  g.group = serial ? fault_spec::group_kind::serial : fault_spec::group_kind::parallel;
  const std::string list_key = path + (serial ? ".serial" : ".parallel");
  const auto list = n[serial ? "serial" : "parallel"];
  if (!list.IsSequence() || list.size() == 0) throw scenario_error{list_key, "must be a non-empty list of faults"};
  for (std::size_t i = 0; i < list.size(); ++i) g.members.push_back(parse_fault(list[i], at_index(list_key, i), cluster));
  g.at = duration(n, path, "at", millis(0), millis(0));
  parse_repetition(n, path, g);
  return g;
}

fault_spec parse_fault(const YAML::Node& n, const std::string& path, const cluster_spec& cluster) {
  require_map(n, path);
  if (n["serial"] || n["parallel"]) return parse_group(n, path, cluster);
  fault_spec f;
  if (!present(n, "kind")) throw scenario_error{path + ".kind", "is required (known: " + list_of(kind_names()) + ")"};
  f.kind = scalar_text(n["kind"]);
  const auto* rule = rule_of(f.kind);
  if (!rule)
    throw scenario_error{path + ".kind", "unknown fault kind '" + f.kind + "' (known: " + list_of(kind_names()) + ")"};
  std::vector<std::string> known = fault_keys;
  for (const auto& p : rule->params) known.emplace_back(p.name);
  allow_keys(n, path, known);
  if (n["params"]) {
    std::vector<std::string> names;
    for (const auto& p : rule->params) names.emplace_back(p.name);
    if (names.empty() && n["params"].IsMap() && n["params"].size() > 0)
      throw scenario_error{path + ".params." + n["params"].begin()->first.as<std::string>(),
                           "unknown key ('" + f.kind + "' takes no params)"};
    allow_keys(n["params"], path + ".params", names);
  }
  for (const auto& p : rule->params) {
    const bool flat = present(n, p.name), nested = n["params"] && present(n["params"], p.name);
    if (flat && nested) throw scenario_error{path + "." + p.name, "is given twice (here and under params)"};
    if (!flat && !nested) {
      if (p.required) throw scenario_error{path + ".params." + p.name, "is required for kind '" + f.kind + "'"};
      continue;
    }
    const auto key = flat ? path + "." + p.name : path + ".params." + p.name;
    f.params[p.name] = param_value(flat ? n[p.name] : n["params"][p.name], p, key);
  }
  // Cross-param rules the table cannot say.
  if (f.kind == "crash") {
    const auto actor = f.params.count("actor") ? f.params["actor"] : "model";
    if (actor == "router" && f.params.count("model"))
      throw scenario_error{path + ".params.model", "does not apply to actor: router (a node has one router)"};
    if (actor != "router" && !f.params.count("model"))
      throw scenario_error{path + ".params.model", "is required for kind 'crash' (unless actor: router)"};
  }
  if (f.kind == "latency" && f.params.count("jitter_ms") &&
      std::stoll(f.params.at("jitter_ms")) > std::stoll(f.params.at("ms")))  // both checked integers above
    throw scenario_error{path + ".params.jitter_ms", "must be at most ms (" + f.params.at("ms") + ")"};
  if (f.kind == "stepdown-consumer" && f.params.count("op") == f.params.count("consumer"))
    throw scenario_error{path + ".params.op", "stepdown-consumer needs exactly one of op or consumer"};

  if (present(n, "target")) f.target = parse_target(n["target"], path + ".target");
  const bool aimless = rule->target == aim::stream_leader || rule->target == aim::consumer_leader;
  const bool has_target = present(n, "target");
  std::string what;
  if (!has_target && !aimless) {
    fits(rule->target, f.target, what);
    throw scenario_error{path + ".target", "is required: kind '" + f.kind + "' needs " + what};
  }
  if (has_target && !fits(rule->target, f.target, what))
    throw scenario_error{path + ".target", "kind '" + f.kind + "' needs " + what + ", not " + describe_target(f.target)};

  f.at = duration(n, path, "at", millis(0), millis(0));
  f.duration = duration(n, path, "duration", millis(0), millis(0));
  if (rule->held && f.duration.count() == 0)
    throw scenario_error{path + ".duration", "is required: kind '" + f.kind + "' lasts until its end (a duration > 0)"};
  parse_repetition(n, path, f);

  // What the simulator can do depends on how it reached the cluster.
  if (!cluster.attach.empty() && rule->launched_only)
    throw scenario_error{path + ".kind", "'" + f.kind + "' needs a launched cluster (cluster.file); an attached one "
                                         "admits actor (crash, slow, fail, fail-load) and stepdown faults only"};
  if (rule->target == aim::host && !cluster.namespaces)
    throw scenario_error{path + ".kind", "'" + f.kind + "' needs cluster.hosts: namespaces"};
  return f;
}

scenario parse(const YAML::Node& root, const std::string& source_dir) {
  if (!root.IsMap()) throw scenario_error{"(top level)", "must be a map (name, seed, cluster, workload, ...)"};
  allow_keys(root, "", {"name", "description", "seed", "cluster", "workload", "steady_state", "faults"});
  scenario s;
  s.source_dir = source_dir;
  s.name = text(root, "", "name", "");
  if (present(root, "description")) {
    if (!root["description"].IsScalar()) throw scenario_error{"description", "must be a string"};
    s.description = root["description"].as<std::string>();
  }
  if (present(root, "seed")) {
    const auto n = root["seed"];
    const auto given = scalar_text(n);
    // yaml-cpp reads "-1" as a huge unsigned; a seed is written as a plain non-negative integer.
    if (!n.IsScalar() || given.empty() || given[0] == '-' || !YAML::convert<std::uint64_t>::decode(n, s.seed))
      throw scenario_error{"seed", "must be an integer in 0..18446744073709551615, got '" + given + "'"};
  }
  s.cluster = parse_cluster(root["cluster"], source_dir);
  s.workload = parse_workload(root["workload"], source_dir);
  s.steady_state = parse_steady_state(root["steady_state"]);
  if (const auto faults = root["faults"]; faults && !faults.IsNull()) {
    if (!faults.IsSequence()) throw scenario_error{"faults", "must be a list of faults"};
    for (std::size_t i = 0; i < faults.size(); ++i)
      s.faults.push_back(parse_fault(faults[i], at_index("faults", i), s.cluster));
  }
  return s;
}

}  // namespace

std::optional<millis> parse_duration(const std::string& text) {
  std::size_t end = text.find_last_not_of(' ');
  if (end == std::string::npos) return std::nullopt;
  std::string t = text.substr(text.find_first_not_of(' '), end + 1 - text.find_first_not_of(' '));
  std::size_t digits = 0;
  while (digits < t.size() && (std::isdigit(static_cast<unsigned char>(t[digits])) || t[digits] == '.')) ++digits;
  if (digits == 0 || t[0] == '.' || std::count(t.begin(), t.begin() + digits, '.') > 1) return std::nullopt;
  std::string unit = t.substr(digits);
  unit.erase(0, unit.find_first_not_of(' '));
  double scale = 0;
  if (unit.empty() || unit == "ms") scale = 1;
  else if (unit == "s") scale = 1000;
  else if (unit == "m") scale = 60000;
  else if (unit == "h") scale = 3600000;
  else return std::nullopt;
  errno = 0;
  const double number = std::strtod(t.substr(0, digits).c_str(), nullptr);
  if (errno == ERANGE) return std::nullopt;  // far too long or too small a number: not a duration
  const double ms = number * scale;
  if (!std::isfinite(ms) || ms > 9e15) return std::nullopt;
  const double whole = std::round(ms);
  if (std::abs(ms - whole) > 1e-6) return std::nullopt;  // "1.5ms": the schedule's resolution is 1 ms
  return millis(static_cast<long long>(whole));
}

outcome<scenario> parse_scenario(const std::string& yaml, const std::string& source_dir) {
  try {
    return parse(YAML::Load(yaml), source_dir);
  } catch (const scenario_error& e) {
    return error{error_code::bad_request, e.key + ": " + e.message};
  } catch (const YAML::Exception& e) {
    return error{error_code::bad_request, std::string("invalid YAML: ") + e.what()};
  }
}

outcome<scenario> load_scenario_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return error{error_code::not_found, path + ": cannot read the scenario file"};
  std::stringstream text;
  text << in.rdbuf();
  const auto dir = fs::absolute(fs::path(path)).parent_path().lexically_normal().string();
  auto s = parse_scenario(text.str(), dir);
  if (!s) return error{s.err().code, path + ": " + s.err().message};
  if (s->name.empty()) s->name = fs::path(path).stem().string();
  return s;
}

const std::vector<std::pair<std::string, std::string>>& fault_kinds() {
  static const auto kinds = [] {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& r : kind_rules()) out.emplace_back(r.kind, r.description);
    return out;
  }();
  return kinds;
}

}  // namespace infermesh::sim
