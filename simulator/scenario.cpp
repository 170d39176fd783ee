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
#include "simulator/scenario_yaml.hpp"

namespace infermesh::sim {
namespace {

namespace fs = std::filesystem;
using namespace scenario_yaml;

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
  static const auto kinds = scenario_yaml::kind_table();
  return kinds;
}

}  // namespace infermesh::sim
