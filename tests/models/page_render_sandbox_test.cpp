// Rendering PDF and TIFF pages in the infermesh-render child: the same pages as in this process, the child's
// memory limit answered too_large, its deadline answered deadline_exceeded (it is killed), a corrupt file's
// error carried back, and the cost of the spawn, measured against rendering in this process.

#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <thread>

#include <chrono>
#include <iostream>

#include "models/image_probe.hpp"
#include "models/page_render_sandbox.hpp"
#include "support/pdf_writer.hpp"
#include "support/proc_children.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

using clock_type = std::chrono::steady_clock;

render_sandbox sandbox() {
  render_sandbox s;
  s.child = INFERMESH_RENDER_BINARY;
  return s;
}

shared_bytes letter_pdf(int pages) {
  std::vector<std::vector<std::string>> text;
  for (int i = 0; i < pages; ++i) text.push_back({"Page " + std::to_string(i + 1), "Some words to render."});
  return shared_bytes::copy_of(test::make_pdf(text));
}

document_limits at_dpi(int dpi) {
  document_limits l;
  l.dpi = dpi;
  return l;
}


/// No child of this process is left (every one was reaped).
bool no_children_left() { return ::waitpid(-1, nullptr, WNOHANG) < 0 && errno == ECHILD; }

}  // namespace

BOOST_AUTO_TEST_SUITE(page_render_sandbox)

BOOST_AUTO_TEST_CASE(the_child_renders_the_same_pages_as_this_process_would) {
  const auto pdf = letter_pdf(3);
  auto here = split_pages(pdf, 2, at_dpi(100));
  auto there = split_pages_sandboxed(sandbox(), pdf, 2, at_dpi(100), clock_type::time_point::max());
  BOOST_REQUIRE_MESSAGE(here, (here ? "" : here.err().message));
  BOOST_REQUIRE_MESSAGE(there, (there ? "" : there.err().message));
  BOOST_TEST(there->total_pages == 3);
  BOOST_TEST(there->pixels == here->pixels);
  BOOST_REQUIRE(there->pages.size() == 2u);
  for (std::size_t i = 0; i < 2; ++i) BOOST_TEST(there->pages[i].view() == here->pages[i].view());
  BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(a_corrupt_document_gets_its_coded_error_back_from_the_child) {
  auto split = split_pages_sandboxed(sandbox(), shared_bytes::copy_of("%PDF-1.7\nthis is not a pdf at all"), 1, {},
                                     clock_type::time_point::max());
  BOOST_REQUIRE(!split);
  BOOST_TEST(to_string(split.err().code) == "unsupported_media");
  document_limits few;
  few.max_document_pages = 5;
  auto bomb = split_pages_sandboxed(sandbox(), letter_pdf(6), 1, few, clock_type::time_point::max());
  BOOST_REQUIRE(!bomb);
  BOOST_TEST(to_string(bomb.err().code) == "too_large");
  BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(a_page_that_needs_more_than_the_childs_memory_limit_is_too_large) {
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST_MESSAGE("skipped under ASan: its child cannot run under RLIMIT_AS, the limit this checks");
  return;
#endif
  // Letter at 2400 dpi is 20400 x 26400 = 538.6 M grey pixels: poppler's bitmap alone is over a 300 MiB
  // address space (Splash then hands back a 1x1 image, which is refused too). The pixel limits are raised so
  // that only the memory limit can stop it.
  document_limits big = at_dpi(2400);
  big.max_pixels = big.max_request_pixels = 1'000'000'000;
  auto s = sandbox();
  s.memory_bytes = std::uint64_t{300} << 20;
  auto split = split_pages_sandboxed(s, letter_pdf(1), 1, big, clock_type::now() + 120s);
  BOOST_REQUIRE(!split);
  BOOST_TEST(to_string(split.err().code) == "too_large", split.err().message);
  BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(a_pdf_whose_xref_claims_33_million_objects_is_too_large_in_the_child_not_the_node) {
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST_MESSAGE("skipped under ASan: its child cannot run under RLIMIT_AS, the limit this checks");
  return;
#endif
  const auto bomb = test::make_xref_bomb_pdf();
  BOOST_TEST(bomb.size() == 250u);
  auto split = split_pages_sandboxed(sandbox(), shared_bytes::copy_of(bomb), 1, {}, clock_type::now() + 120s);
  BOOST_REQUIRE(!split);
  BOOST_TEST(to_string(split.err().code) == "too_large", split.err().message);
  BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(nested_form_xobjects_are_stopped_at_the_deadline_by_killing_the_child) {
  // 3 levels of 10 render at once; 8 levels of 10 are 10^7 fills from a file of a few kB.
  const auto small = shared_bytes::copy_of(test::make_nested_forms_pdf(3, 10));
  auto drawn = split_pages_sandboxed(sandbox(), small, 1, at_dpi(72), clock_type::now() + 120s);
  BOOST_REQUIRE_MESSAGE(drawn, (drawn ? "" : drawn.err().message));  // the file is well-formed
  const auto bomb = test::make_nested_forms_pdf(8, 10);
  BOOST_TEST(bomb.size() < 4096u);
  const auto started = clock_type::now();
  auto split = split_pages_sandboxed(sandbox(), shared_bytes::copy_of(bomb), 1, at_dpi(72), started + 500ms);
  BOOST_REQUIRE(!split);
  BOOST_TEST(to_string(split.err().code) == "deadline_exceeded", split.err().message);
  BOOST_TEST((clock_type::now() - started < 10s));  // generous: at the deadline, not when 10^7 fills are done
  BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(a_render_past_the_deadline_is_killed_and_answered_deadline_exceeded) {
  // Letter at 900 dpi (75.7 M pixels) takes the child about a second; the deadline is 50 ms away.
  document_limits slow = at_dpi(900);
  slow.max_pixels = slow.max_request_pixels = 100'000'000;
  const auto started = clock_type::now();
  auto split = split_pages_sandboxed(sandbox(), letter_pdf(1), 1, slow, started + 50ms);
  const auto took = clock_type::now() - started;
  BOOST_REQUIRE(!split);
  BOOST_TEST(to_string(split.err().code) == "deadline_exceeded", split.err().message);
  BOOST_TEST((took < 10s));  // generous: answered at the deadline, not when the page would have been done
  BOOST_TEST(no_children_left());  // killed by its PID and reaped
}

BOOST_AUTO_TEST_CASE(the_child_holds_only_its_three_standard_descriptors) {
  // A descriptor of this process that is NOT close-on-exec (the node's libraries may leave such): the child
  // must not hold it. Looked at in /proc while the child renders a slow page.
  const int inherited = ::open("/dev/null", O_RDONLY);
  BOOST_REQUIRE(inherited >= 0);
  document_limits slow = at_dpi(900);
  slow.max_pixels = slow.max_request_pixels = 100'000'000;
  auto rendering = std::async(std::launch::async, [&] {
    return split_pages_sandboxed(sandbox(), letter_pdf(1), 1, slow, clock_type::now() + 120s);
  });
  // The last look while it still runs (the first ones may come between its exec and its close_range).
  std::vector<std::string> fds;
  while (rendering.wait_for(2ms) != std::future_status::ready) {
    for (pid_t child : test::children_named(::getpid(), "infermesh-render"))
      if (auto now = test::open_fds(child); !now.empty()) fds = std::move(now);
  }
  BOOST_TEST(static_cast<bool>(rendering.get()));
  ::close(inherited);
  std::sort(fds.begin(), fds.end());
  BOOST_TEST(fds == (std::vector<std::string>{"0", "1", "2"}), boost::test_tools::per_element());
  BOOST_TEST(no_children_left());
}

BOOST_AUTO_TEST_CASE(a_renderer_that_is_not_there_is_an_internal_error_naming_its_path) {
  render_sandbox s;
  s.child = "/nonexistent/infermesh-render";
  auto split = split_pages_sandboxed(s, letter_pdf(1), 1, {}, clock_type::time_point::max());
  BOOST_REQUIRE(!split);
  BOOST_TEST(to_string(split.err().code) == "internal");
  BOOST_TEST(split.err().message.find("/nonexistent/infermesh-render") != std::string::npos, split.err().message);
}

BOOST_AUTO_TEST_CASE(the_spawn_costs_a_measured_ratio_over_rendering_in_this_process) {
  // Not a timed assertion: both are measured in this run and the ratio is printed (commit messages quote it).
  constexpr int runs = 10;
  const auto pdf = letter_pdf(1);
  const auto limits = at_dpi(150);
  auto time_of = [&](auto&& split) {
    const auto t0 = clock_type::now();
    for (int i = 0; i < runs; ++i) BOOST_REQUIRE(split());
    return std::chrono::duration<double, std::milli>(clock_type::now() - t0).count() / runs;
  };
  const double here = time_of([&] { return split_pages(pdf, 1, limits); });
  const double there = time_of([&] { return split_pages_sandboxed(sandbox(), pdf, 1, limits, clock_type::time_point::max()); });
  std::cout << "page_render_sandbox: one Letter page at 150 dpi, mean of " << runs << ": in process " << here
            << " ms, in the child " << there << " ms, ratio " << there / here << std::endl;
  BOOST_TEST(there > 0.0);
}

BOOST_AUTO_TEST_SUITE_END()
