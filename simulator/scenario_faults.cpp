#include "simulator/scenario_yaml.hpp"

namespace infermesh::sim::scenario_yaml {
namespace {

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

}  // namespace

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

std::vector<std::pair<std::string, std::string>> kind_table() {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& r : kind_rules()) out.emplace_back(r.kind, r.description);
  return out;
}

}  // namespace infermesh::sim::scenario_yaml
