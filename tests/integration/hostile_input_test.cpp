// The bad-input matrix (issue 14): every class of hostile input the adversarial run found, made fresh by
// tests/support/hostile_inputs, sent to a live node on the default config (cluster-config/single-node.yaml:
// the real models and Tesseract) while a well-behaved client keeps sending normal requests. Each hostile
// request gets its coded error, or a bounded success, within its deadline; every normal request is answered
// `ok` within its deadline meanwhile; the node's peak RSS stays under its budget and its RSS comes back to
// within 10% of what it was before the matrix.
#include <boost/test/unit_test.hpp>

#include <atomic>
#include <chrono>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "messages/subjects.hpp"
#include "support/client.hpp"
#include "support/hostile_inputs.hpp"
#include "support/nats_server.hpp"
#include "support/pdf_writer.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

/// The default config's memory budget (README "Hostile input"). Under AddressSanitizer every allocation
/// carries redzones and a quarantine: the budget is not checked there.
constexpr long budget_kb = 1536L * 1024;
#if defined(__SANITIZE_ADDRESS__)
constexpr bool checks_memory = false;
#else
constexpr bool checks_memory = true;
#endif

/// `VmRSS` or `VmHWM` of process `pid` in kB, from /proc (0 when it is gone).
long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stol(line.substr(field.size() + 1));
  return 0;
}

/// Normal requests, one every 250 ms on their own connection, each with a 10 s deadline, for as long as the
/// matrix runs: how many were sent, answered `ok` in time, and what the others got.
class normal_traffic {
 public:
  explicit normal_traffic(const std::string& nats_url) : client_(nats_url) {
    thread_ = std::thread([this] {
      const auto req = test::image_request(test::sample_image("receipt.jpg"));
      for (int i = 0; !stop_; ++i) {
        auto r = req;
        r.id = "normal-" + std::to_string(i);
        r.deadline_ms = 10000;
        const auto sent = clock_type::now();
        const auto rep = client_.send("classify", r, encoding::msgpack, 15s);
        const auto took = clock_type::now() - sent;
        std::lock_guard<std::mutex> lock(mutex_);
        ++sent_;
        if (rep.ok && took <= 10s) ++in_time_;
        else failures_.push_back(r.id + ": " + test::code_of(rep) + " after " +
                                 std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(took).count()) + " ms");
        std::this_thread::sleep_for(250ms);  // a client's pace, not a poll
      }
    });
  }
  ~normal_traffic() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int sent() {
    std::lock_guard<std::mutex> lock(mutex_);
    return sent_;
  }
  int in_time() {
    std::lock_guard<std::mutex> lock(mutex_);
    return in_time_;
  }
  std::string failures() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string out;
    for (const auto& f : failures_) out += "\n  " + f;
    return out;
  }

 private:
  test::client client_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  int sent_ = 0, in_time_ = 0;
  std::vector<std::string> failures_;
  std::thread thread_;
};

/// One node on the default config for the whole matrix, warmed up on every op, its RSS measured after.
struct matrix {
  test::nats_server nats;
  test::node_process node{test::config_file{std::string(INFERMESH_SOURCE_DIR) + "/cluster-config/single-node.yaml"},
                          nats.url(), "hostile"};
  test::client client{nats.url()};
  long baseline_kb = 0;
  std::unique_ptr<normal_traffic> traffic;

  matrix() {
    // Warm-up: every op three times from each of two clients at once, so that both preprocessing workers and
    // both OCR engines (the default config's two of each) hold their working memory before the baseline.
    std::vector<std::string> failed(2);
    std::vector<std::thread> warmers;
    for (std::size_t w = 0; w < failed.size(); ++w)
      warmers.emplace_back([this, w, &failed] {
        test::client warm{nats.url()};
        for (const char* op : {"classify", "ocr", "process"})
          for (int i = 0; i < 3; ++i) {
            auto req = test::image_request(test::sample_image("invoice.jpg"));
            req.deadline_ms = 60000;
            const auto rep = warm.send(op, req);
            if (!rep.ok && failed[w].empty()) failed[w] = std::string("warm-up ") + op + ": " + test::message_of(rep);
          }
      });
    for (auto& t : warmers) t.join();
    for (const auto& f : failed)
      if (!f.empty()) throw std::runtime_error(f);
    baseline_kb = status_kb(node.process().pid(), "VmRSS");
    traffic = std::make_unique<normal_traffic>(nats.url());
  }

  static matrix* the;
};
matrix* matrix::the = nullptr;

struct matrix_fixture {
  std::unique_ptr<matrix> m;
  matrix_fixture() {
    m = std::make_unique<matrix>();
    matrix::the = m.get();
  }
  ~matrix_fixture() { matrix::the = nullptr; }
};

request document(const std::string& bytes, int deadline_ms, int max_pages = 1) {
  request r;
  r.image = shared_bytes::copy_of(bytes);
  r.deadline_ms = deadline_ms;
  r.max_pages = max_pages;
  return r;
}

/// Sends one hostile request and checks its answer is one of `codes` ("ok" for a bounded success), within its
/// deadline and a margin for the reply's way back.
void expect_bounded(const std::string& what, const std::string& op, const request& req, const std::set<std::string>& codes) {
  const long deadline = static_cast<long>(req.deadline_ms.value_or(10000));
  const auto sent = clock_type::now();
  const auto rep = matrix::the->client.send(op, req, encoding::msgpack, std::chrono::milliseconds(deadline) + 30s);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(clock_type::now() - sent).count();
  BOOST_TEST(codes.count(test::code_of(rep)) == 1, what << " (" << op << "): " << test::code_of(rep) << ": " << test::message_of(rep));
  BOOST_TEST(took <= deadline + 3000, what << " (" << op << ") answered after " << took << " ms, deadline " << deadline);
  BOOST_TEST_MESSAGE(what << " (" << op << "): " << test::code_of(rep) << " in " << took << " ms, node RSS "
                          << status_kb(matrix::the->node.process().pid(), "VmRSS") / 1024 << " MB: " << test::message_of(rep));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(hostile_input, *boost::unit_test::fixture<matrix_fixture>())

BOOST_AUTO_TEST_CASE(memory_that_grows_with_pages_a_hundred_page_tiff_and_a_thirty_page_pdf) {
  const auto tiff = test::many_page_tiff(100, 6000, 6000);
  BOOST_TEST_MESSAGE("100-page TIFF: " << tiff.size() << " bytes");
  expect_bounded("100-page TIFF", "classify", document(tiff, 20000), {"ok", "too_large"});
  expect_bounded("100-page TIFF", "ocr", document(tiff, 20000, 100), {"ok", "too_large", "deadline_exceeded"});
  std::vector<std::thread> three;
  for (int i = 0; i < 3; ++i)
    three.emplace_back([&] { expect_bounded("100-page TIFF, three at once", "classify", document(tiff, 20000), {"ok", "too_large"}); });
  for (auto& t : three) t.join();
  const auto pdf = test::make_pdf(std::vector<std::vector<std::string>>(30, {"page"}));
  BOOST_TEST_MESSAGE("30-page PDF: " << pdf.size() << " bytes");
  expect_bounded("30-page PDF", "classify", document(pdf, 20000), {"ok", "too_large"});
  expect_bounded("30-page PDF", "ocr", document(pdf, 20000, 30), {"ok", "too_large", "deadline_exceeded"});
}

BOOST_AUTO_TEST_CASE(allocations_from_numbers_inside_files) {
  expect_bounded("PDF naming object 33,000,000", "classify", document(test::make_xref_bomb_pdf(33'000'000), 10000),
                 {"ok", "unsupported_media", "too_large"});
  expect_bounded("TIFF with one 32768² tile", "classify", document(test::huge_tile_tiff(6000, 6000, 32768), 10000),
                 {"unsupported_media", "too_large"});
}

BOOST_AUTO_TEST_CASE(cpu_that_a_deadline_must_stop) {
  const auto jpeg = test::many_scan_jpeg(2048, 2048, 5000);
  BOOST_TEST_MESSAGE("progressive JPEG: " << jpeg.size() << " bytes");
  expect_bounded("progressive JPEG with 5000 extra scans", "classify", document(jpeg, 5000),
                 {"unsupported_media", "too_large", "deadline_exceeded"});
  const auto forms = test::make_nested_forms_pdf(8, 10);
  BOOST_TEST_MESSAGE("nested Form XObjects: " << forms.size() << " bytes");
  expect_bounded("PDF of Form XObjects 8 deep, 10 wide", "classify", document(forms, 5000),
                 {"deadline_exceeded", "too_large", "unsupported_media"});
  expect_bounded("dense-text page", "ocr", document(test::dense_text_png(), 8000), {"ok", "deadline_exceeded"});
}

BOOST_AUTO_TEST_CASE(unbounded_queues_junk_without_a_reply_subject_and_one_id_many_times) {
  auto& m = *matrix::the;
  std::string junk(8 * 1024 * 1024 - 4096, '\0');
  std::mt19937 random(4);
  for (auto& c : junk) c = static_cast<char>(random());
  for (int i = 0; i < 100; ++i) BOOST_REQUIRE(!m.client.transport().publish(wire::op_subject("classify"), junk));
  BOOST_REQUIRE(!m.client.transport().flush(30s));
  auto valid = test::image_request(test::sample_image("receipt.jpg"));
  valid.deadline_ms = 10000;
  expect_bounded("a valid request after 100 × 8 MB of junk with no reply subject", "classify", valid, {"ok"});

  test::client flooder(m.nats.url());
  test::reply_collector replies(flooder.transport(), "test.hostile.replies");
  auto same = test::image_request(test::sample_image("invoice.jpg"), "one-id-many-times");
  same.deadline_ms = 20000;
  const auto payload = encode_request(same, encoding::msgpack);
  constexpr int copies = 20000;
  for (int i = 0; i < copies; ++i)
    BOOST_REQUIRE(!flooder.transport().publish(wire::op_subject("ocr"), payload, "test.hostile.replies"));
  BOOST_REQUIRE(!flooder.transport().flush(30s));
  BOOST_TEST(replies.wait_for(1, 30s), "the first copy is answered");
  std::size_t ok = 0, other = 0;
  for (const auto& r : replies.replies()) (r.ok ? ok : other) += 1;
  BOOST_TEST_MESSAGE(copies << " copies of one in-flight id: " << ok << " answered ok, " << other << " refused");
  expect_bounded("a valid request after the copies", "classify", valid, {"ok"});
}

BOOST_AUTO_TEST_CASE(payloads_that_decode_to_many_times_their_size) {
  const auto bomb = test::nested_json_arrays(1000, 4096);
  BOOST_TEST_MESSAGE("JSON of 1000 arrays of 4096 items: " << bomb.size() << " bytes");
  const auto rep = matrix::the->client.send_raw("classify", bomb, 30s);
  BOOST_TEST(test::code_of(rep) == "too_large", test::code_of(rep) << ": " << test::message_of(rep));
}

BOOST_AUTO_TEST_CASE(the_smaller_ones_a_bom_invalid_utf8_and_a_pgm) {
  auto& m = *matrix::the;
  const auto bom = m.client.send_raw("classify", "\xEF\xBB\xBF  {\"id\": \"with-bom\", \"image\": 7}", 30s);
  BOOST_TEST(test::code_of(bom) == "bad_request", test::message_of(bom));  // read as JSON: `image` must be bytes
  BOOST_TEST(test::message_of(bom).find("image") != std::string::npos, test::message_of(bom));
  request bad_id = test::image_request(test::sample_image("receipt.jpg"));
  bad_id.id = "\xff\xfe-not-utf8";
  const auto rep = m.client.send("classify", bad_id, encoding::msgpack, 30s);
  BOOST_TEST(test::code_of(rep) == "bad_request", test::message_of(rep));
  expect_bounded("a PGM", "classify", document("P5\n4 4\n255\n" + std::string(16, '\x80'), 10000), {"unsupported_media"});
}

BOOST_AUTO_TEST_CASE(the_node_kept_its_memory_budget_and_answered_every_normal_request_in_time) {
  auto& m = *matrix::the;
  m.traffic->stop();
  const pid_t pid = m.node.process().pid();
  const long peak = status_kb(pid, "VmHWM");
  BOOST_TEST_MESSAGE("node RSS: " << m.baseline_kb / 1024 << " MB before the matrix, peak " << peak / 1024 << " MB");
  if (checks_memory) BOOST_TEST(peak <= budget_kb, "peak RSS " << peak / 1024 << " MB, budget " << budget_kb / 1024 << " MB");
  long now = status_kb(pid, "VmRSS");
  for (const auto until = clock_type::now() + 20s; now > m.baseline_kb * 11 / 10 && clock_type::now() < until;
       now = status_kb(pid, "VmRSS"))
    std::this_thread::sleep_for(200ms);  // memory is handed back as the last replies and caches settle
  BOOST_TEST_MESSAGE("node RSS after: " << now / 1024 << " MB");
  if (checks_memory) BOOST_TEST(now <= m.baseline_kb * 11 / 10, "RSS " << now / 1024 << " MB after, " << m.baseline_kb / 1024 << " MB before");
  BOOST_TEST(m.traffic->sent() > 10);
  BOOST_TEST(m.traffic->in_time() == m.traffic->sent(), m.traffic->sent() - m.traffic->in_time()
                                                             << " normal requests late or failed:" << m.traffic->failures());
  const auto stopped = m.node.stop_problem(60s);
  BOOST_TEST(stopped.empty(), stopped);
}

BOOST_AUTO_TEST_SUITE_END()
