#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "simulator/report.hpp"

using namespace infermesh::sim;
namespace fs = std::filesystem;

namespace {

// Chromium is a declared dependency (Debian package `chromium`): a missing browser fails the suite.
const std::string chromium = "/usr/bin/chromium";
// A cold start of Chromium on a busy 2-core machine takes a few seconds; past this it is hung.
constexpr std::chrono::seconds chromium_timeout{60};
// The screenshot's size, which the IHDR must report back.
constexpr unsigned width = 1200, height = 900;

/// A temporary folder, removed with everything in it when the test ends, passed or failed.
struct temp_dir {
  fs::path path;
  temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "infermesh-report-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ignored;
    fs::remove_all(path, ignored);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
};

struct browser_result {
  bool finished = false;  // false: killed at the timeout
  int status = -1;
  std::string out;
};

/// Runs Chromium headless (fork/exec, no shell) in its own process group with its own profile under `dir`;
/// kills that group if it outlives `chromium_timeout`. Returns its stdout.
browser_result run_chromium(const fs::path& dir, std::vector<std::string> args) {
  std::vector<std::string> argv{chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                                "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
                                "--user-data-dir=" + (dir / "profile").string()};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  const std::string err_file = (dir / "chromium.stderr").string();

  int out[2];
  if (pipe(out) != 0) throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);  // its renderer and GPU helpers share the group, so one kill ends them all
    dup2(out[1], STDOUT_FILENO);
    int err = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (err >= 0) dup2(err, STDERR_FILENO);
    int null_in = open("/dev/null", O_RDONLY);
    if (null_in >= 0) dup2(null_in, STDIN_FILENO);
    close(out[0]);
    close(out[1]);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  setpgid(pid, pid);  // also from here: whichever runs first, the group exists before any kill
  close(out[1]);

  browser_result result;
  const auto deadline = std::chrono::steady_clock::now() + chromium_timeout;
  bool eof = false;
  auto read_some = [&](int wait_ms) {  // false at end of file or when nothing came within wait_ms
    if (eof) {
      usleep(static_cast<useconds_t>(wait_ms) * 1000);
      return false;
    }
    pollfd p{out[0], POLLIN, 0};
    if (poll(&p, 1, wait_ms) <= 0) return false;
    char buf[65536];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n <= 0) {
      eof = true;
      return false;
    }
    result.out.append(buf, static_cast<std::size_t>(n));
    return true;
  };
  while (std::chrono::steady_clock::now() < deadline) {
    read_some(100);
    // Has it exited? Asked without reaping it, so its pid (and group id) cannot be reused before the kill below.
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) {
      while (read_some(0)) {
      }
      result.finished = true;
      break;
    }
  }
  close(out[0]);
  // Hung past the timeout, or exited leaving helpers in its group: the group is ours, end it.
  kill(-pid, SIGKILL);
  waitpid(pid, &result.status, 0);
  return result;
}

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

/// Width and height from a PNG's IHDR (the first chunk, right after the 8-byte signature); 0,0 if not a PNG.
std::pair<unsigned, unsigned> png_size(const std::string& png) {
  static const std::string signature = "\x89PNG\r\n\x1a\n";
  if (png.size() < 24 || png.compare(0, 8, signature) != 0 || png.compare(12, 4, "IHDR") != 0) return {0, 0};
  auto be32 = [&](std::size_t at) {
    return (unsigned(static_cast<unsigned char>(png[at])) << 24) | (unsigned(static_cast<unsigned char>(png[at + 1])) << 16) |
           (unsigned(static_cast<unsigned char>(png[at + 2])) << 8) | unsigned(static_cast<unsigned char>(png[at + 3]));
  };
  return {be32(16), be32(20)};
}

/// 20 s of steady traffic at 10/s after 2 s of warm-up, with a slow fault and an instantaneous kill.
run_record synthetic_run() {
  run_record run;
  run.scenario_name = "render <check>";
  run.seed = 7;
  run.warmup_start_ms = 0;
  run.measure_start_ms = 2000;
  run.end_ms = 22000;
  for (int i = 0; i < 220; ++i) {
    request_record q;
    q.id = "r" + std::to_string(i);
    q.op = "classify";
    q.intended_ms = q.sent_ms = 100.0 * i;
    const bool slow = i >= 80 && i < 100, failed = i >= 150 && i < 155;
    q.reply_ms = q.intended_ms + (slow ? 180 + i % 7 : 10 + i % 5);
    q.code = failed ? "unavailable" : "ok";
    q.node = "node-a";
    q.replies = 1;
    run.requests.push_back(q);
    run.observed_replies[q.id] = 1;
  }
  planned_fault slow{0, "slow", millis{6000}, millis{8000}, {}, {}, 0, ""};
  planned_fault kill{1, "kill", millis{13000}, millis{13000}, {}, {}, 0, ""};
  run.schedule = {slow, kill};
  run.faults = {{slow, {"node-a"}, "slow 180 ms", 8000, 10000, true, ""},
                {kill, {"<script>node-b</script>"}, "SIGKILL", 15000, 15000, true, ""}};
  run.cleanup = {{"proxy node-a", true}};
  return run;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(report_html_render)

BOOST_AUTO_TEST_CASE(chromium_renders_both_charts_with_a_band_per_fault_and_a_screenshot_that_is_not_blank) {
  BOOST_TEST_REQUIRE(access(chromium.c_str(), X_OK) == 0,
                     chromium << " is missing: install the Debian package `chromium` (a declared dependency)");
  temp_dir dir;
  auto run = synthetic_run();
  auto r = compute_report(run, steady_state_spec{});
  BOOST_TEST_REQUIRE(r.faults.size() == 2u);
  const fs::path page = dir.path / "report.html";
  std::ofstream(page) << report_html(run, r);
  const fs::path blank = dir.path / "blank.html";
  std::ofstream(blank) << "<!DOCTYPE html><html><body></body></html>\n";
  const std::string url = "file://" + page.string();

  auto dom = run_chromium(dir.path, {"--dump-dom", url});
  BOOST_TEST_REQUIRE(dom.finished, "chromium --dump-dom hung past " << chromium_timeout.count() << " s");
  BOOST_TEST_REQUIRE((WIFEXITED(dom.status) && WEXITSTATUS(dom.status) == 0),
                     "chromium --dump-dom failed: " << read_file(dir.path / "chromium.stderr"));
  BOOST_TEST(occurrences(dom.out, "id=\"latency-chart\"") == 1u);
  BOOST_TEST(occurrences(dom.out, "id=\"throughput-chart\"") == 1u);
  // The bands survive the parse as SVG rects, one per fault in each chart.
  BOOST_TEST(occurrences(dom.out, "<rect class=\"fault-band\"") == 2 * r.faults.size());
  BOOST_TEST(dom.out.find("<script") == std::string::npos);  // the node name stayed text
  BOOST_TEST(dom.out.find("&lt;script&gt;node-b&lt;/script&gt;") != std::string::npos);

  const std::string size = "--window-size=" + std::to_string(width) + "," + std::to_string(height);
  const fs::path shot = dir.path / "report.png", blank_shot = dir.path / "blank.png";
  auto s1 = run_chromium(dir.path, {"--screenshot=" + shot.string(), size, url});
  BOOST_TEST_REQUIRE(s1.finished, "chromium --screenshot hung");
  auto s2 = run_chromium(dir.path, {"--screenshot=" + blank_shot.string(), size, "file://" + blank.string()});
  BOOST_TEST_REQUIRE(s2.finished, "chromium --screenshot (blank page) hung");
  BOOST_TEST_REQUIRE(fs::exists(shot), "no screenshot: " << read_file(dir.path / "chromium.stderr"));
  BOOST_TEST_REQUIRE(fs::exists(blank_shot));
  const std::string png = read_file(shot);
  auto [w, h] = png_size(png);
  BOOST_TEST(w == width);
  BOOST_TEST(h == height);
  // A white page compresses to almost nothing; charts, tables and text do not.
  const auto blank_bytes = fs::file_size(blank_shot);
  BOOST_TEST(png.size() > 4 * blank_bytes, png.size() << " bytes against " << blank_bytes << " for a blank page");
}

BOOST_AUTO_TEST_SUITE_END()
