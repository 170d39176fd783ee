#include <nlohmann/json.hpp>

#include "simulator/report.hpp"

namespace infermesh::sim {

namespace {

// Ordered: a reader finds the seed and the verdict where the file begins, in the order they were computed.
using json = nlohmann::ordered_json;

const char* choice_name(target_spec::choice c) {
  switch (c) {
    case target_spec::choice::one: return "one";
    case target_spec::choice::all: return "all";
    case target_spec::choice::percent: return "percent";
  }
  return "one";
}

json to_json(const target_spec& t) {
  json j = json::object();
  auto put = [&](const char* key, const std::string& v) {
    if (!v.empty()) j[key] = v;
  };
  put("node", t.node);
  put("nats", t.nats);
  put("host", t.host);
  put("role", t.role);
  put("serves", t.serves);
  put("of", t.of);
  put("op", t.op);
  j["choose"] = choice_name(t.choose);
  if (t.choose == target_spec::choice::percent) j["percent"] = t.percent;
  return j;
}

json to_json(const planned_fault& f) {
  return {{"index", f.index},
          {"kind", f.kind},
          {"start_ms", f.start.count()},
          {"end_ms", f.end.count()},
          {"target", to_json(f.target)},
          {"params", f.params},
          {"seed", f.seed}};
}

json to_json(const latency_summary& s) {
  return {{"count", s.count}, {"p50", s.p50}, {"p95", s.p95}, {"p99", s.p99}, {"max", s.max}};
}

json to_json(const request_record& q) {
  return {{"id", q.id},         {"op", q.op},           {"durable", q.durable}, {"intended_ms", q.intended_ms},
          {"sent_ms", q.sent_ms}, {"reply_ms", q.reply_ms}, {"latency_ms", q.latency_ms()}, {"code", q.code},
          {"node", q.node},     {"tries", q.tries},     {"replies", q.replies}};
}

json to_json(const fault_record& f) {
  return {{"index", f.plan.index}, {"kind", f.plan.kind},   {"targets", f.targets},
          {"detail", f.detail},    {"start_ms", f.start_ms}, {"end_ms", f.end_ms},
          {"applied", f.applied},  {"error", f.error}};
}

json to_json(const fault_impact& f) {
  return {{"index", f.index},
          {"kind", f.kind},
          {"targets", f.targets},
          {"start_ms", f.start_ms},
          {"end_ms", f.end_ms},
          {"instantaneous", f.instantaneous},
          {"requests", f.requests},
          {"ok", f.ok},
          {"shed", f.shed},
          {"lost", f.lost},
          {"duplicated", f.duplicated},
          {"errors", f.errors},
          {"before", to_json(f.before)},
          {"during", to_json(f.during)},
          {"after", to_json(f.after)},
          {"detect_ms", f.detect_ms},
          {"recover_ms", f.recover_ms}};
}

}  // namespace

std::string report_json(const run_record& run, const report& r) {
  json j;
  j["scenario"] = run.scenario_name;
  j["scenario_file"] = run.scenario_file;
  j["seed"] = run.seed;
  j["cluster_file"] = run.cluster_file;
  j["passed"] = r.passed;
  j["interrupted"] = run.interrupted;
  j["warmup_start_ms"] = run.warmup_start_ms;
  j["measure_start_ms"] = run.measure_start_ms;
  j["end_ms"] = run.end_ms;

  j["schedule"] = json::array();
  for (const auto& f : run.schedule) j["schedule"].push_back(to_json(f));
  j["faults"] = json::array();
  for (const auto& f : run.faults) j["faults"].push_back(to_json(f));

  std::size_t errors = 0;
  for (const auto& [code, n] : r.errors) errors += n;
  j["totals"] = {{"sent", r.sent},         {"answered", r.answered}, {"ok", r.ok},
                 {"lost", r.lost},         {"duplicated", r.duplicated}, {"shed", r.shed},
                 {"retried", r.retried},   {"errors", errors},      {"errors_by_code", r.errors},
                 {"throughput_rps", r.throughput_rps}, {"before_rps", r.before_rps}, {"ideal_rps", r.ideal_rps}, {"latency", to_json(r.overall)}};
  j["phases"] = {{"before", to_json(r.before)}, {"during", to_json(r.during)}, {"after", to_json(r.after)}};
  j["impacts"] = json::array();
  for (const auto& f : r.faults) j["impacts"].push_back(to_json(f));
  j["verdicts"] = json::array();
  for (const auto& v : r.verdicts)
    j["verdicts"].push_back({{"phase", v.phase}, {"check", v.check}, {"observed", v.observed}, {"passed", v.passed}});
  j["series"] = json::array();
  for (const auto& p : r.series)
    j["series"].push_back({{"t_s", p.t_s},
                           {"latencies", p.latencies},
                           {"p50", p.p50},
                           {"p99", p.p99},
                           {"answered", p.answered},
                           {"ok", p.ok},
                           {"errors", p.errors},
                           {"lost", p.lost}});

  j["nodes"] = json::array();
  for (const auto& n : run.nodes) j["nodes"].push_back({{"node", n.node}, {"before", n.before}, {"after", n.after}});
  j["journal"] = json::array();
  for (const auto& e : run.journal)
    j["journal"].push_back({{"at_ms", e.at_ms}, {"action", e.action}, {"detail", e.detail}});
  json items = json::array();
  for (const auto& c : run.cleanup) items.push_back({{"what", c.what}, {"gone", c.gone}});
  j["cleanup"] = {{"ok", r.cleanup_ok}, {"items", items}};
  j["counts"] = {{"checked", r.counts_checked},
                 {"agree", r.counts_agree},
                 {"observed_replies", r.observed_replies},
                 {"answered", r.answered},
                 {"detail", r.counts_detail}};
  j["requests"] = json::array();
  for (const auto& q : run.requests) j["requests"].push_back(to_json(q));

  // Names and details come from processes and files: replace bytes that are not UTF-8 rather than throw.
  return j.dump(1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace infermesh::sim
