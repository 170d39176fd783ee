#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "simulator/report.hpp"

namespace infermesh::sim {

namespace {

// Every text that came from the run (names, details, error messages) goes through here.
std::string esc(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string fmt(double v, int decimals = 1) {
  if (!std::isfinite(v)) return "-";
  if (std::fabs(v) < 0.5 * std::pow(10.0, -decimals)) v = 0;  // no "-0" on an axis
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// -1 means "never" for detect and recover: say so rather than print a negative time.
std::string ms_or_never(double v) { return v < 0 ? "never" : fmt(v, 0) + " ms"; }

// One colour per fault, cycling; bands are drawn semi-transparent so lines stay visible through them.
const char* fault_colour(std::size_t i) {
  static const char* palette[] = {"#e6550d", "#3182bd", "#31a354", "#756bb1", "#d6616b", "#8c6d31", "#17becf", "#e377c2"};
  return palette[i % (sizeof palette / sizeof *palette)];
}

// A step of 1, 2 or 5 times a power of ten that splits `span` into about `ticks` parts.
double nice_step(double span, int ticks) {
  if (span <= 0) return 1;
  double raw = span / ticks, mag = std::pow(10.0, std::floor(std::log10(raw)));
  double n = raw / mag;
  return (n <= 1 ? 1 : n <= 2 ? 2 : n <= 5 ? 5 : 10) * mag;
}

struct line {
  std::string name, colour;
  std::vector<double> values;  // one per series point
  std::vector<bool> gaps;      // where set: no data in that second, so the line breaks instead of falling to 0
};

// The geometry of one chart: time on x (seconds since the measured part's start), a linear y from 0.
struct frame {
  double width = 1000, height = 280, left = 64, right = 16, top = 16, bottom = 40;
  double t0 = 0, t1 = 1, ymax = 1;
  double x(double t) const { return left + (t - t0) / (t1 - t0) * (width - left - right); }
  double y(double v) const { return top + (1 - v / ymax) * (height - top - bottom); }
};

std::string svg_chart(const std::string& id, const std::string& title, const std::string& y_label,
                      const report& r, const std::vector<line>& lines) {
  frame f;
  if (!r.series.empty()) {
    f.t0 = std::min(0.0, r.series.front().t_s);
    f.t1 = std::max(f.t0 + 1, r.series.back().t_s + 1);
  }
  double top_value = 0;
  for (const auto& l : lines)
    for (double v : l.values) top_value = std::max(top_value, v);
  const double ystep = nice_step(top_value > 0 ? top_value : 1, 5);
  f.ymax = std::max(ystep, std::ceil(top_value / ystep) * ystep);

  std::ostringstream o;
  o << "<figure><figcaption>" << esc(title) << "</figcaption>\n";
  o << "<svg id=\"" << id << "\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " << f.width << " " << f.height
    << "\" width=\"" << f.width << "\" height=\"" << f.height << "\" role=\"img\" aria-label=\"" << esc(title)
    << "\">\n";
  const double plot_top = f.top, plot_bottom = f.height - f.bottom;
  // Warm-up: grey, because its numbers are not judged.
  if (f.t0 < 0)
    o << "<rect class=\"warmup\" x=\"" << fmt(f.x(f.t0)) << "\" y=\"" << plot_top << "\" width=\""
      << fmt(f.x(0) - f.x(f.t0)) << "\" height=\"" << plot_bottom - plot_top << "\" fill=\"#ddd\"><title>warm-up</title></rect>\n";
  // One band per fault; an instantaneous one as a thin band at its start, so it cannot vanish at any width.
  for (std::size_t i = 0; i < r.faults.size(); ++i) {
    const auto& fi = r.faults[i];
    double x0 = f.x(fi.start_ms / 1000.0);
    double w = fi.instantaneous ? 3 : std::max(2.0, f.x(fi.end_ms / 1000.0) - x0);
    o << "<rect class=\"fault-band\" data-fault=\"" << fi.index << "\" x=\"" << fmt(x0) << "\" y=\"" << plot_top
      << "\" width=\"" << fmt(w) << "\" height=\"" << plot_bottom - plot_top << "\" fill=\"" << fault_colour(i)
      << "\" fill-opacity=\"" << (fi.instantaneous ? "0.7" : "0.22") << "\"><title>fault " << fi.index << " "
      << esc(fi.kind) << " " << esc(fi.targets) << "</title></rect>\n";
  }
  // Axes, ticks and grid.
  o << "<g class=\"axes\" stroke=\"#444\" stroke-width=\"1\">"
    << "<line x1=\"" << f.left << "\" y1=\"" << plot_bottom << "\" x2=\"" << f.width - f.right << "\" y2=\""
    << plot_bottom << "\"/><line x1=\"" << f.left << "\" y1=\"" << plot_top << "\" x2=\"" << f.left << "\" y2=\""
    << plot_bottom << "\"/></g>\n";
  o << "<g class=\"ticks\" font-size=\"11\" fill=\"#333\">\n";
  for (double v = 0; v <= f.ymax + ystep / 2; v += ystep) {
    o << "<line x1=\"" << f.left - 4 << "\" y1=\"" << fmt(f.y(v)) << "\" x2=\"" << f.width - f.right << "\" y2=\""
      << fmt(f.y(v)) << "\" stroke=\"#eee\"/>"
      << "<text x=\"" << f.left - 6 << "\" y=\"" << fmt(f.y(v) + 4) << "\" text-anchor=\"end\">"
      << fmt(v, ystep < 1 ? 2 : 0) << "</text>\n";
  }
  const double xstep = nice_step(f.t1 - f.t0, 10);
  for (double t = std::ceil(f.t0 / xstep) * xstep; t <= f.t1 + 1e-9; t += xstep)
    o << "<line x1=\"" << fmt(f.x(t)) << "\" y1=\"" << plot_bottom << "\" x2=\"" << fmt(f.x(t)) << "\" y2=\""
      << plot_bottom + 4 << "\" stroke=\"#444\"/><text x=\"" << fmt(f.x(t)) << "\" y=\"" << plot_bottom + 16
      << "\" text-anchor=\"middle\">" << fmt(t, xstep < 1 ? 1 : 0) << "</text>\n";
  o << "<text x=\"" << (f.left + f.width - f.right) / 2 << "\" y=\"" << f.height - 6
    << "\" text-anchor=\"middle\">time (s since the measured part's start)</text>\n";
  o << "<text transform=\"translate(14 " << (plot_top + plot_bottom) / 2 << ") rotate(-90)\" text-anchor=\"middle\">"
    << esc(y_label) << "</text>\n</g>\n";
  // The lines, each point in the middle of its second.
  for (const auto& l : lines) {
    std::vector<std::string> runs{""};
    for (std::size_t i = 0; i < r.series.size() && i < l.values.size(); ++i) {
      if (i < l.gaps.size() && l.gaps[i]) {
        if (!runs.back().empty()) runs.emplace_back();
        continue;
      }
      runs.back() += fmt(f.x(r.series[i].t_s + 0.5)) + "," + fmt(f.y(l.values[i])) + " ";
    }
    for (const auto& points : runs)
      if (!points.empty())
        o << "<polyline class=\"series\" fill=\"none\" stroke=\"" << l.colour
          << "\" stroke-width=\"1.5\" stroke-linejoin=\"round\" points=\"" << points << "\"><title>" << esc(l.name)
          << "</title></polyline>\n";
  }
  // Legend of the lines, top right.
  double lx = f.width - f.right - 130 * static_cast<double>(lines.size());
  for (const auto& l : lines) {
    o << "<rect x=\"" << fmt(lx) << "\" y=\"" << plot_top + 2 << "\" width=\"12\" height=\"3\" fill=\"" << l.colour
      << "\"/><text x=\"" << fmt(lx + 16) << "\" y=\"" << plot_top + 8 << "\" font-size=\"11\">" << esc(l.name)
      << "</text>\n";
    lx += 130;
  }
  o << "</svg></figure>\n";
  return o.str();
}

std::string fault_legend(const report& r) {
  std::ostringstream o;
  o << "<ul class=\"legend\">";
  o << "<li><span class=\"swatch\" style=\"background:#ddd\"></span>warm-up</li>";
  for (std::size_t i = 0; i < r.faults.size(); ++i) {
    const auto& f = r.faults[i];
    o << "<li><span class=\"swatch\" style=\"background:" << fault_colour(i) << "\"></span>fault " << f.index << ": "
      << esc(f.kind) << (f.instantaneous ? " (instantaneous)" : "") << "</li>";
  }
  o << "</ul>\n";
  return o.str();
}

std::string errors_text(const std::map<std::string, std::size_t>& errors) {
  if (errors.empty()) return "0";
  std::string s;
  for (const auto& [code, n] : errors) s += (s.empty() ? "" : ", ") + code + " " + std::to_string(n);
  return s;
}

const char* style = R"(body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{margin-bottom:4px}h2{margin-top:32px;border-bottom:1px solid #ccc}
.verdict{font-weight:bold;padding:2px 10px;border-radius:4px;color:#fff}
.passed{background:#2e7d32}.failed{background:#c62828}
table{border-collapse:collapse;font-size:13px;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.bad td{background:#fde8e8}tr.good td.mark{color:#2e7d32}tr.bad td.mark{color:#c62828}
.totals span{margin-right:16px}figure{margin:12px 0}figcaption{font-weight:bold;margin-bottom:4px}
svg{max-width:100%;height:auto;font-family:inherit;background:#fff}
.legend{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:16px;font-size:13px}
.swatch{display:inline-block;width:14px;height:14px;margin-right:6px;vertical-align:middle;opacity:.6}
code{font-size:12px})";

}  // namespace

std::string report_html(const run_record& run, const report& r) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>infermesh simulate: "
    << esc(r.scenario) << "</title>\n<style>" << style << "</style></head><body>\n";

  // Header: what ran, its verdict, the totals.
  std::size_t errors = 0;
  for (const auto& [code, n] : r.errors) errors += n;
  o << "<header><h1>" << esc(r.scenario) << "</h1>\n<p>seed <code>" << r.seed << "</code>";
  if (!run.scenario_file.empty()) o << " &middot; scenario <code>" << esc(run.scenario_file) << "</code>";
  if (!run.cluster_file.empty()) o << " &middot; cluster <code>" << esc(run.cluster_file) << "</code>";
  o << " &middot; <span id=\"verdict\" class=\"verdict " << (r.passed ? "passed\">PASSED" : "failed\">FAILED")
    << "</span>" << (run.interrupted ? " (interrupted)" : "") << "</p>\n";
  o << "<p class=\"totals\"><span>sent " << r.sent << "</span><span>answered " << r.answered << "</span><span>ok "
    << r.ok << "</span><span>lost " << r.lost << "</span><span>duplicated " << r.duplicated << "</span><span>shed "
    << r.shed << "</span><span>retried " << r.retried << "</span><span>errors " << esc(errors_text(r.errors))
    << "</span><span>throughput " << fmt(r.throughput_rps) << " /s</span>"
    << (r.ideal_rps > 0 ? "<span>before faults " + fmt(r.before_rps) + " /s of an ideal " + fmt(r.ideal_rps) + " /s (" +
                              fmt(100.0 * r.before_rps / r.ideal_rps) + "%)</span>"
                        : std::string())
    << "</p>\n";
  o << "<p class=\"totals\"><span>p50/p99 overall " << fmt(r.overall.p50) << " / " << fmt(r.overall.p99)
    << " ms</span><span>before " << fmt(r.before.p50) << " / " << fmt(r.before.p99) << " ms</span><span>during "
    << fmt(r.during.p50) << " / " << fmt(r.during.p99) << " ms</span><span>after " << fmt(r.after.p50) << " / "
    << fmt(r.after.p99) << " ms</span></p></header>\n";

  // Charts.
  line p50{"p50 ms", "#1f77b4", {}, {}}, p99{"p99 ms", "#d62728", {}, {}};
  line answered{"answered/s", "#2ca02c", {}, {}}, errs{"errors/s", "#ff7f0e", {}, {}}, lost{"lost/s", "#7b1fa2", {}, {}};
  for (const auto& p : r.series) {
    p50.values.push_back(p.p50);
    p99.values.push_back(p.p99);
    p50.gaps.push_back(p.latencies == 0);
    p99.gaps.push_back(p.latencies == 0);
    lost.values.push_back(p.lost);
    answered.values.push_back(p.answered);
    errs.values.push_back(p.errors);
  }
  o << "<h2>Over time</h2>\n" << fault_legend(r);
  o << svg_chart("latency-chart", "Latency per second (from the intended send time)", "latency (ms)", r, {p50, p99});
  o << svg_chart("throughput-chart", "Throughput per second", "requests per second", r, {answered, errs, lost});

  // Per fault.
  o << "<h2>Faults</h2>\n<table id=\"faults\"><tr><th>#</th><th>kind</th><th>targets</th><th>start (s)</th>"
       "<th>end (s)</th><th>requests</th><th>lost</th><th>duplicated</th><th>errors</th><th>p50/p99 before</th>"
       "<th>p50/p99 during</th><th>p50/p99 after</th><th>detect</th><th>recover</th></tr>\n";
  auto pp = [](const latency_summary& s) { return fmt(s.p50) + " / " + fmt(s.p99); };
  for (const auto& f : r.faults) {
    o << "<tr" << (f.lost > 0 || f.recover_ms < 0 ? " class=\"bad\"" : "") << "><td class=\"num\">" << f.index
      << "</td><td>" << esc(f.kind) << "</td><td>" << esc(f.targets) << "</td><td class=\"num\">"
      << fmt(f.start_ms / 1000.0, 3) << "</td><td class=\"num\">" << fmt(f.end_ms / 1000.0, 3)
      << (f.instantaneous ? " (inst.)" : "") << "</td><td class=\"num\">" << f.requests << "</td><td class=\"num\">"
      << f.lost << "</td><td class=\"num\">" << f.duplicated << "</td><td>" << esc(errors_text(f.errors))
      << "</td><td class=\"num\">" << pp(f.before) << "</td><td class=\"num\">" << pp(f.during)
      << "</td><td class=\"num\">" << pp(f.after) << "</td><td class=\"num\">" << ms_or_never(f.detect_ms)
      << "</td><td class=\"num\">" << ms_or_never(f.recover_ms) << "</td></tr>\n";
  }
  o << "</table>\n";
  if (!run.faults.empty()) {
    o << "<table id=\"faults-applied\"><tr><th>#</th><th>what was done</th><th>applied</th><th>error</th></tr>\n";
    for (const auto& f : run.faults)
      o << "<tr" << (f.error.empty() ? "" : " class=\"bad\"") << "><td class=\"num\">" << f.plan.index << "</td><td>"
        << esc(f.detail) << "</td><td>" << (f.applied ? "yes" : "no") << "</td><td>" << esc(f.error) << "</td></tr>\n";
    o << "</table>\n";
  }

  // Verdicts, the count check, the cleanup check.
  o << "<h2>Verdict</h2>\n<table id=\"verdicts\"><tr><th>phase</th><th>check</th><th>observed</th><th></th></tr>\n";
  for (const auto& v : r.verdicts)
    o << "<tr class=\"" << (v.passed ? "good" : "bad") << "\"><td>" << esc(v.phase) << "</td><td>" << esc(v.check)
      << "</td><td class=\"num\">" << fmt(v.observed, 3) << "</td><td class=\"mark\">" << (v.passed ? "pass" : "FAIL")
      << "</td></tr>\n";
  o << "<tr class=\"" << (r.counts_agree ? "good" : "bad") << "\"><td>counts</td><td>independent count agrees"
    << (r.counts_checked ? "" : " (not checked)") << "</td><td class=\"num\">" << r.observed_replies
    << "</td><td class=\"mark\">" << (r.counts_agree ? "pass" : "FAIL") << "</td></tr>\n</table>\n";
  if (!r.counts_detail.empty()) o << "<p id=\"counts-detail\">" << esc(r.counts_detail) << "</p>\n";

  o << "<h2>Cleanup</h2>\n<p>" << (r.cleanup_ok ? "Nothing was left behind." : "Something was left behind.")
    << "</p>\n<table id=\"cleanup\"><tr><th>what</th><th>gone</th></tr>\n";
  for (const auto& c : run.cleanup)
    o << "<tr class=\"" << (c.gone ? "good" : "bad") << "\"><td>" << esc(c.what) << "</td><td class=\"mark\">"
      << (c.gone ? "yes" : "NO") << "</td></tr>\n";
  o << "</table>\n";

  if (!run.nodes.empty()) {
    o << "<h2>Node counters</h2>\n<table id=\"nodes\"><tr><th>node</th><th>counter</th><th>before</th><th>after</th></tr>\n";
    for (const auto& n : run.nodes) {
      std::map<std::string, std::pair<std::string, std::string>> rows;
      for (const auto& [k, v] : n.before) rows[k].first = fmt(v, 0);
      for (const auto& [k, v] : n.after) rows[k].second = fmt(v, 0);
      for (const auto& [k, v] : rows)
        o << "<tr><td>" << esc(n.node) << "</td><td>" << esc(k) << "</td><td class=\"num\">" << v.first
          << "</td><td class=\"num\">" << v.second << "</td></tr>\n";
    }
    o << "</table>\n";
  }

  o << "<h2>Journal</h2>\n<table id=\"journal\"><tr><th>at (s)</th><th>action</th><th>detail</th></tr>\n";
  for (const auto& e : run.journal)
    o << "<tr><td class=\"num\">" << fmt(e.at_ms / 1000.0, 3) << "</td><td>" << esc(e.action) << "</td><td>"
      << esc(e.detail) << "</td></tr>\n";
  o << "</table>\n</body></html>\n";
  return o.str();
}

}  // namespace infermesh::sim
