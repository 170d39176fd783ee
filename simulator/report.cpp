#include "simulator/report.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>

namespace infermesh::sim {

namespace {

// A half-open or closed span of run time (ms since the run's start).
struct span {
  double from = 0, to = 0;
  bool closed = false;  // fault windows include their end: a request intended at the end is still "during"
  bool holds(double t) const { return t >= from && (closed ? t <= to : t < to); }
  double length() const { return std::max(0.0, to - from); }
};

bool is_wire_error(const std::string& code) { return code != "ok" && code != "lost" && code != "shed"; }

double nearest_rank(const std::vector<double>& sorted, double percent) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(percent / 100.0 * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

// What a fault window covers in run time: the record's own times when it was applied, else the plan's
// (a fault that failed to apply still marks the time it was meant for); instantaneous faults get `window`.
span fault_span(const run_record& run, const fault_record& f, double window_ms) {
  double start = f.applied ? f.start_ms : run.measure_start_ms + static_cast<double>(f.plan.start.count());
  double end = f.applied ? f.end_ms : run.measure_start_ms + static_cast<double>(f.plan.end.count());
  if (end <= start) end = start + window_ms;
  return {start, end, true};
}

// The undo time: where recovery is measured from (for instantaneous faults, the moment it happened).
double fault_end(const run_record& run, const fault_record& f) {
  double start = f.applied ? f.start_ms : run.measure_start_ms + static_cast<double>(f.plan.start.count());
  double end = f.applied ? f.end_ms : run.measure_start_ms + static_cast<double>(f.plan.end.count());
  return std::max(start, end);
}

template <class Pred>
latency_summary summarize_where(const run_record& run, Pred in) {
  std::vector<double> ms;
  for (const auto& r : run.requests)
    if (r.latency_ms() >= 0 && in(r)) ms.push_back(r.latency_ms());
  return summarize_latencies(std::move(ms));
}

// The numbers one phase is judged on.
struct phase_numbers {
  latency_summary latency;
  std::size_t answered = 0, errors = 0;
  std::size_t completed = 0;  ///< answered, or refused without a reply (`unavailable`: no node took it)
  double seconds = 0;
  double error_rate() const { return completed == 0 ? 0 : static_cast<double>(errors) / completed; }
  double throughput() const { return seconds <= 0 ? 0 : static_cast<double>(answered) / seconds; }
};

template <class Pred>
phase_numbers phase_where(const run_record& run, double seconds, Pred in) {
  phase_numbers p;
  p.seconds = seconds;
  p.latency = summarize_where(run, in);
  for (const auto& r : run.requests) {
    if (!in(r)) continue;
    if (r.reply_ms >= 0) ++p.answered;
    if (r.reply_ms >= 0 || is_wire_error(r.code)) ++p.completed;
    if (is_wire_error(r.code)) ++p.errors;
  }
  return p;
}

std::string number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

void judge(std::vector<verdict>& out, const std::string& phase, const std::string& name, double observed,
           double limit, bool at_most) {
  verdict v;
  v.phase = phase;
  v.check = name + (at_most ? " <= " : " >= ") + number(limit);
  v.observed = observed;
  v.passed = at_most ? observed <= limit : observed >= limit;
  out.push_back(std::move(v));
}

// The first whole window [s, s + window) from `undone` on that is back within the tolerances, with s = `undone` or
// a later request's intended time; -1 when none ends by the run's end. `sent` are the non-shed requests sorted by
// intended time. One sliding pass: the window's counts are updated as requests enter and leave it, and its p99
// is judged by counting latencies over the limit (nearest rank: p99 <= limit iff at least ceil(0.99 n) are not).
double first_window_within(const std::vector<const request_record*>& sent, const steady_state_spec& tol,
                           double undone, double window_ms, double run_end, double p99_limit) {
  std::size_t lo = 0, hi = 0, lost = 0, answered = 0, errors = 0, over = 0;
  auto count = [&](const request_record* q, int sign) {
    auto step = [&](std::size_t& n) { n = sign > 0 ? n + 1 : n - 1; };
    if (q->code == "lost") step(lost);
    if (q->reply_ms >= 0) step(answered);
    if (q->reply_ms >= 0 && q->latency_ms() > p99_limit) step(over);
    if (is_wire_error(q->code)) step(errors);
  };
  auto within = [&] {
    const std::size_t n = hi - lo;
    if (n == 0 || lost > 0) return false;  // a silent window shows nothing is back
    const auto rank = static_cast<std::size_t>(std::ceil(0.99 * static_cast<double>(answered)));
    if (answered > 0 && answered - over < rank) return false;
    double rate = answered == 0 ? 1 : static_cast<double>(errors) / answered;
    if (tol.error_rate ? rate > *tol.error_rate : errors > 0) return false;
    if (tol.throughput_rps && static_cast<double>(answered) / (window_ms / 1000.0) < *tol.throughput_rps)
      return false;
    return true;
  };
  auto first_after = [&](double t) {  // the first request intended after t
    return std::upper_bound(sent.begin(), sent.end(), t,
                            [](double v, const request_record* q) { return v < q->intended_ms; }) - sent.begin();
  };
  double s = undone;
  std::size_t next = static_cast<std::size_t>(first_after(undone));
  while (s + window_ms <= run_end) {
    while (hi < sent.size() && sent[hi]->intended_ms < s + window_ms) count(sent[hi++], +1);
    while (lo < hi && sent[lo]->intended_ms < s) count(sent[lo++], -1);
    if (within()) return s - undone;
    if (next >= sent.size()) break;
    s = sent[next]->intended_ms;
    while (next < sent.size() && sent[next]->intended_ms <= s) ++next;
  }
  return -1;
}

void check_counts(const run_record& run, report& r) {
  std::vector<std::string> unseen, seen_lost;
  std::size_t observed = 0;
  for (const auto& [id, n] : run.observed_replies)
    if (n > 0) ++observed;
  r.observed_replies = observed;
  r.counts_checked = !run.observed_replies.empty() || r.answered == 0;
  if (!r.counts_checked) {  // answers, and the subscriber saw none of them: it cannot vouch for anything
    r.counts_agree = false;
    r.counts_detail = "not checked: no independent count (the subscriber saw no reply; we count " +
                      std::to_string(r.answered) + " answered)";
    return;
  }
  auto seen = [&](const std::string& id) {
    auto it = run.observed_replies.find(id);
    return it != run.observed_replies.end() && it->second > 0;
  };
  for (const auto& q : run.requests) {
    if (q.reply_ms >= 0 && !seen(q.id)) unseen.push_back(q.id);
    if (q.code == "lost" && seen(q.id)) seen_lost.push_back(q.id);
  }
  std::ostringstream detail;
  auto examples = [&](const std::vector<std::string>& ids) {
    for (std::size_t i = 0; i < ids.size() && i < 5; ++i) detail << (i ? ", " : " (e.g. ") << ids[i];
    if (!ids.empty()) detail << ")";
  };
  if (!unseen.empty()) {
    detail << unseen.size() << " answered but not observed";
    examples(unseen);
  }
  if (!seen_lost.empty()) {
    if (detail.tellp() > 0) detail << "; ";
    detail << seen_lost.size() << " lost but observed";
    examples(seen_lost);
  }
  if (observed != r.answered) {
    if (detail.tellp() > 0) detail << "; ";
    detail << "observed " << observed << " ids, answered " << r.answered;
  }
  r.counts_detail = detail.str();
  r.counts_agree = r.counts_detail.empty();
}

}  // namespace

latency_summary summarize_latencies(std::vector<double> ms) {
  latency_summary s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  s.count = ms.size();
  s.p50 = nearest_rank(ms, 50);
  s.p95 = nearest_rank(ms, 95);
  s.p99 = nearest_rank(ms, 99);
  s.max = ms.back();
  return s;
}

report compute_report(const run_record& run, const steady_state_spec& tol) {
  report r;
  r.scenario = run.scenario_name;
  r.seed = run.seed;
  r.interrupted = run.interrupted;
  const double window_ms = static_cast<double>(tol.window.count());
  const double measure = run.measure_start_ms;

  for (const auto& q : run.requests) {
    if (q.code == "shed") ++r.shed; else ++r.sent;
    if (q.reply_ms >= 0) ++r.answered;
    if (q.code == "ok") ++r.ok;
    if (q.code == "lost") ++r.lost;
    if (q.replies > 1) ++r.duplicated;
    if (q.tries > 1) ++r.retried;
    if (is_wire_error(q.code)) ++r.errors[q.code];
  }

  // Faults in start order: the phases and each fault's "after" depend on it.
  std::vector<std::size_t> order(run.faults.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::vector<span> spans;
  for (const auto& f : run.faults) spans.push_back(fault_span(run, f, window_ms));
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return spans[a].from < spans[b].from; });

  const span measured{measure, run.end_ms, true};
  auto in_measured = [&](const request_record& q) { return measured.holds(q.intended_ms); };
  auto in_any_fault = [&](double t) {
    return std::any_of(spans.begin(), spans.end(), [&](const span& s) { return s.holds(t); });
  };
  r.overall = summarize_where(run, in_measured);

  // Phases: before the first fault, during any, after the last one's end.
  const bool faulted = !spans.empty();
  const double first_start = faulted ? spans[order.front()].from : run.end_ms;
  double last_end = measure;
  for (const auto& s : spans) last_end = std::max(last_end, s.to);
  double during_ms = 0;  // the union of the windows, clipped to the measured part
  {
    double covered_to = -std::numeric_limits<double>::infinity();
    for (auto i : order) {
      double from = std::max({spans[i].from, covered_to, measure}), to = std::min(spans[i].to, run.end_ms);
      if (to > from) during_ms += to - from;
      covered_to = std::max(covered_to, spans[i].to);
    }
  }
  const span before_span{measure, first_start, false};
  const span after_span{last_end, run.end_ms, false};
  auto before_in = [&](const request_record& q) { return before_span.holds(q.intended_ms) && !in_any_fault(q.intended_ms); };
  auto during_in = [&](const request_record& q) { return in_measured(q) && in_any_fault(q.intended_ms); };
  auto after_in = [&](const request_record& q) {
    return faulted && q.intended_ms > last_end && q.intended_ms <= run.end_ms;
  };
  const phase_numbers before = phase_where(run, before_span.length() / 1000.0, before_in);
  const phase_numbers during = phase_where(run, during_ms / 1000.0, during_in);
  const phase_numbers after = phase_where(run, after_span.length() / 1000.0, after_in);
  r.before = before.latency;
  r.during = during.latency;
  r.after = after.latency;

  // Without a tolerance and without a baseline there is no "slow": only errors are signs then.
  double detect_limit = tol.p99_ms ? *tol.p99_ms : 3 * r.before.p99;
  if (detect_limit <= 0) detect_limit = std::numeric_limits<double>::infinity();

  // Per fault.
  std::vector<const request_record*> by_intended;
  for (const auto& q : run.requests)
    if (q.code != "shed") by_intended.push_back(&q);
  std::stable_sort(by_intended.begin(), by_intended.end(),
                   [](auto a, auto b) { return a->intended_ms < b->intended_ms; });
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto i = order[k];
    const auto& f = run.faults[i];
    const span w = spans[i];
    // The next fault that starts later (parallel members start together): bounds this one's "after" and detect.
    double next_start = run.end_ms;
    for (std::size_t n = k + 1; n < order.size(); ++n)
      if (spans[order[n]].from > w.from) {
        next_start = spans[order[n]].from;
        break;
      }
    fault_impact fi;
    fi.index = f.plan.index;
    fi.kind = f.plan.kind;
    for (std::size_t t = 0; t < f.targets.size(); ++t) fi.targets += (t ? "," : "") + f.targets[t];
    fi.instantaneous = fault_end(run, f) <= w.from;
    fi.start_ms = w.from - measure;
    fi.end_ms = w.to - measure;
    for (const auto& q : run.requests) {
      if (!w.holds(q.intended_ms)) continue;
      if (q.code == "shed") { ++fi.shed; continue; }
      ++fi.requests;
      if (q.code == "ok") ++fi.ok;
      if (q.code == "lost") ++fi.lost;
      if (q.replies > 1) ++fi.duplicated;
      if (is_wire_error(q.code)) ++fi.errors[q.code];
    }
    const span before_w{w.from - window_ms, w.from, false};
    const span after_w{w.to, next_start, false};
    fi.before = summarize_where(run, [&](const request_record& q) { return before_w.holds(q.intended_ms); });
    fi.during = summarize_where(run, [&](const request_record& q) { return w.holds(q.intended_ms); });
    fi.after = summarize_where(run, [&](const request_record& q) {
      return q.intended_ms > after_w.from && q.intended_ms < after_w.to;
    });

    // Detect: the first sign, as the client sees it, from the start until the next fault starts.
    const span seen{w.from, next_start, false};
    double first = std::numeric_limits<double>::infinity();
    for (const auto& q : run.requests) {
      double at = std::numeric_limits<double>::infinity();
      if (is_wire_error(q.code)) at = q.reply_ms >= 0 ? q.reply_ms : q.sent_ms;  // refused: no reply, still an error
      else if (q.code == "lost" || (q.reply_ms >= 0 && q.latency_ms() > detect_limit)) at = q.intended_ms + detect_limit;
      if (seen.holds(at)) first = std::min(first, at);
    }
    fi.detect_ms = std::isfinite(first) ? first - w.from : -1;

    // Recover: the first whole window after the undo that is back within the tolerances.
    fi.recover_ms = first_window_within(by_intended, tol, fault_end(run, f), window_ms, run.end_ms, detect_limit);
    r.faults.push_back(std::move(fi));
  }

  // Per second, from warm-up on, on a grid aligned with the measured part's start.
  {
    const auto first_s = static_cast<long>(std::floor((run.warmup_start_ms - measure) / 1000.0));
    const auto last_s = static_cast<long>(std::ceil((run.end_ms - measure) / 1000.0));
    const std::size_t n = last_s > first_s ? static_cast<std::size_t>(last_s - first_s) : 0;
    r.series.resize(n);
    std::vector<std::vector<double>> ms(n);
    auto slot = [&](double t) -> long {
      return static_cast<long>(std::floor((t - measure) / 1000.0)) - first_s;
    };
    for (std::size_t s = 0; s < n; ++s) r.series[s].t_s = static_cast<double>(first_s + static_cast<long>(s));
    for (const auto& q : run.requests) {
      long si = slot(q.intended_ms);
      if (si >= 0 && si < static_cast<long>(n)) {
        if (q.reply_ms >= 0) ms[si].push_back(q.latency_ms());
        if (q.code == "lost") r.series[si].lost += 1;
      }
      long ri = q.reply_ms >= 0 ? slot(q.reply_ms) : -1;
      if (ri >= 0 && ri < static_cast<long>(n)) {
        r.series[ri].answered += 1;
        if (q.code == "ok") r.series[ri].ok += 1;
        if (is_wire_error(q.code)) r.series[ri].errors += 1;
      }
    }
    for (std::size_t s = 0; s < n; ++s) {
      auto sum = summarize_latencies(std::move(ms[s]));
      r.series[s].latencies = sum.count;
      r.series[s].p50 = sum.p50;
      r.series[s].p99 = sum.p99;
    }
  }

  // Throughput over the measured part: replies that arrived in it.
  {
    std::size_t answered = 0;
    for (const auto& q : run.requests)
      if (q.reply_ms >= 0 && measured.holds(q.reply_ms)) ++answered;
    const double seconds = (run.end_ms - measure) / 1000.0;
    r.throughput_rps = seconds > 0 ? static_cast<double>(answered) / seconds : 0;
  }

  // Verdicts: each set tolerance in each phase that lasted, then the ones that always apply.
  auto judge_phase = [&](const std::string& name, const phase_numbers& p, bool is_during) {
    if (p.seconds <= 0) return;
    auto p99 = is_during ? tol.during_p99_ms : tol.p99_ms;
    auto rate = is_during ? tol.during_error_rate : tol.error_rate;
    if (p99) judge(r.verdicts, name, "p99_ms", p.latency.p99, *p99, true);
    if (rate) judge(r.verdicts, name, "error_rate", p.error_rate(), *rate, true);
    if (!is_during && tol.throughput_rps)
      judge(r.verdicts, name, "throughput_rps", p.throughput(), *tol.throughput_rps, false);
  };
  r.ideal_rps = run.ideal_rps;
  r.before_rps = before.seconds > 0 ? before.throughput() : 0;
  judge_phase("before", before, false);
  if (faulted) {
    judge_phase("during", during, true);
    judge_phase("after", after, false);
  }
  r.verdicts.push_back({"run", "lost == 0", static_cast<double>(r.lost), r.lost == 0});
  const auto recovery_ms = static_cast<double>(tol.recovery.count());
  for (std::size_t k = 0; k < order.size(); ++k) {
    const auto& f = run.faults[order[k]];
    const auto& fi = r.faults[k];
    const std::string name = "fault " + std::to_string(fi.index) + " (" + fi.kind + ")";
    if (!f.error.empty()) r.verdicts.push_back({"fault", name + " applied: " + f.error, 0, false});
    r.verdicts.push_back({"recovery", name + " recovery <= " + number(recovery_ms) + " ms", fi.recover_ms,
                          fi.recover_ms >= 0 && fi.recover_ms <= recovery_ms});
  }

  r.cleanup_ok = std::all_of(run.cleanup.begin(), run.cleanup.end(), [](const auto& c) { return c.gone; });
  check_counts(run, r);
  r.passed = r.lost == 0 && r.cleanup_ok && r.counts_agree &&
             std::all_of(r.verdicts.begin(), r.verdicts.end(), [](const verdict& v) { return v.passed; });
  return r;
}

std::string report_summary(const report& r) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  out << "scenario " << r.scenario << ", seed " << r.seed << (r.interrupted ? ", interrupted" : "") << "\n";
  if (r.ideal_rps > 0)
    out << "throughput before faults " << r.before_rps << "/s of an ideal " << r.ideal_rps << "/s ("
        << 100.0 * r.before_rps / r.ideal_rps << "%); over the run " << r.throughput_rps << "/s\n";
  std::size_t errors = 0;
  for (const auto& [code, n] : r.errors) errors += n;
  out << "sent " << r.sent << ", answered " << r.answered << ", ok " << r.ok << ", lost " << r.lost
      << ", duplicated " << r.duplicated << ", shed " << r.shed << ", errors " << errors;
  for (const auto& [code, n] : r.errors) out << " " << code << "=" << n;
  out << "\n";
  bool first = true;
  auto phase = [&](const char* name, const latency_summary& s) {
    out << (first ? " " : ", ") << name << ": p50 " << s.p50 << " ms, p99 " << s.p99 << " ms (" << s.count << ")";
    first = false;
  };
  out << "latency";
  phase("before", r.before);
  phase("during", r.during);
  phase("after", r.after);
  out << "\n";
  for (const auto& f : r.faults) {
    std::size_t fe = 0;
    for (const auto& [code, n] : f.errors) fe += n;
    out << "fault " << f.index << " " << f.kind << " " << (f.targets.empty() ? "-" : f.targets) << ": lost "
        << f.lost << ", errors " << fe << ", detect " << f.detect_ms << " ms, recover " << f.recover_ms
        << " ms\n";
  }
  out << (r.passed ? "PASSED" : "FAILED");
  std::vector<std::string> failed;
  for (const auto& v : r.verdicts)
    if (!v.passed) failed.push_back(v.phase + ": " + v.check + " (observed " + number(v.observed) + ")");
  if (!r.cleanup_ok) failed.push_back("cleanup: something was left behind");
  if (!r.counts_agree) failed.push_back("counts: " + r.counts_detail);
  for (std::size_t i = 0; i < failed.size(); ++i) out << (i ? "; " : ": ") << failed[i];
  if (!r.counts_checked) out << " (" << r.counts_detail << ")";
  out << "\n";
  return out.str();
}

}  // namespace infermesh::sim
