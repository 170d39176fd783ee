// The preprocessing pool as a dispatcher and a supervisor (real workers, real files, real time: the workers
// are detached threads): a worker busy with a slow document holds up nobody queued behind it, a job whose
// deadline passes while it waits is answered without being worked on, and a worker that dies is replaced
// through the one lifecycle while the pool reports its health.

#include <boost/test/unit_test.hpp>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <atomic>
#include <future>
#include <mutex>

#include "actors/preprocessor.hpp"
#include "support/pdf_writer.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

constexpr auto reply_wait = 60s;  // generous: two other builds share these 2 cores

shared_bytes small_png() {
  cv::Mat img(48, 48, CV_8UC3, cv::Scalar(20, 120, 220));
  std::vector<std::uint8_t> out;
  cv::imencode(".png", img, out);
  return shared_bytes::from_vector(std::move(out));
}

/// A document whose one page takes a worker a long while: Letter at 900 dpi is 7650 x 9900 = 75.7 M pixels
/// rendered (about a second or more here, against a few ms for a small PNG).
shared_bytes slow_document() { return shared_bytes::copy_of(test::make_pdf({{"A slow page"}})); }

document_limits slow_limits() {
  document_limits l;
  l.dpi = 900;
  l.max_pixels = 100'000'000;
  l.max_request_pixels = 100'000'000;
  return l;
}

input_spec small_input() {
  input_spec in;
  in.width = in.height = 32;
  return in;
}

struct pool_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::mutex mutex;
  std::vector<caf::actor> spawned;        // every worker ever spawned, in order
  std::vector<bool> health;               // every health report, in order
  std::promise<void> replaced;            // set when a worker is spawned after the first `workers`
  std::size_t workers = 0;
  preprocess_actor pool;

  explicit pool_fixture(std::size_t n, supervision_config supervision = {}) : workers(n) {
    preprocessor_setup s;
    s.workers = n;
    s.supervision = supervision;
    s.on_health = [this](bool healthy) {
      std::lock_guard<std::mutex> g(mutex);
      health.push_back(healthy);
    };
    s.on_spawned = [this](std::size_t, const caf::actor& a) {
      std::lock_guard<std::mutex> g(mutex);
      spawned.push_back(a);
      if (spawned.size() == workers + 1) replaced.set_value();
    };
    pool = spawn_preprocessor_pool(sys, std::move(s));
    caf::scoped_actor self{sys};  // every worker spawned and serving before a test starts
    self->request(pool, reply_wait, ping_atom::value).receive([](bool) {}, [](caf::error&) { BOOST_FAIL("pool not ready"); });
  }
  ~pool_fixture() { caf::anon_send_exit(pool, caf::exit_reason::user_shutdown); }

  caf::actor worker(std::size_t i) {
    std::lock_guard<std::mutex> g(mutex);
    return spawned.at(i);
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(preprocessor)

BOOST_AUTO_TEST_CASE(a_worker_busy_with_a_slow_document_holds_up_nobody_queued_behind_it) {
  pool_fixture f(2);
  caf::scoped_actor self{f.sys};
  self->send(f.pool, split_atom::value, slow_document(), 1, slow_limits(), steady_time::max());
  constexpr int small_jobs = 6;  // round-robin would put 3 of them behind the slow one
  for (int i = 0; i < small_jobs; ++i)
    self->send(f.pool, prep_atom::value, small_png(), small_input(), 0, steady_time::max());
  std::vector<std::string> order;  // which answers came, in order
  for (int i = 0; i < small_jobs + 1; ++i)
    self->receive(
        [&](split_result& r) {
          BOOST_TEST(!r.failure.has_value(), (r.failure ? r.failure->message : ""));
          order.push_back("slow");
        },
        [&](preprocessed& p) {
          BOOST_TEST(!p.failure.has_value(), (p.failure ? p.failure->message : ""));
          order.push_back("small");
        },
        caf::after(reply_wait) >> [] { BOOST_FAIL("no answer"); });
  BOOST_REQUIRE(order.size() == std::size_t{small_jobs + 1});
  BOOST_TEST(order.back() == "slow");  // every small job was answered by the other worker meanwhile
}

BOOST_AUTO_TEST_CASE(a_job_whose_deadline_passes_while_it_waits_is_answered_without_being_worked_on) {
  pool_fixture f(1);
  caf::scoped_actor self{f.sys};
  self->send(f.pool, split_atom::value, slow_document(), 1, slow_limits(), steady_time::max());
  // Queued behind the slow page on the only worker; its deadline passes long before that page is done.
  self->send(f.pool, prep_atom::value, small_png(), small_input(), 0, std::chrono::steady_clock::now() + 50ms);
  std::vector<std::string> order;
  for (int i = 0; i < 2; ++i)
    self->receive(
        [&](split_result&) { order.push_back("slow"); },
        [&](preprocessed& p) {
          BOOST_REQUIRE(p.failure.has_value());
          BOOST_TEST(to_string(p.failure->code) == "deadline_exceeded");
          BOOST_TEST(p.failure->message.find("waited") != std::string::npos, p.failure->message);
          order.push_back("expired");
        },
        caf::after(reply_wait) >> [] { BOOST_FAIL("no answer"); });
  BOOST_TEST(order.front() == "expired");  // at its deadline, not after the slow page
}

BOOST_AUTO_TEST_CASE(a_worker_that_dies_is_replaced_and_the_pool_reports_unhealthy_then_healthy) {
  supervision_config s;
  s.max_restarts = 0;     // the first death is past the intensity: the pool says it is unhealthy
  s.period = 300ms;       // and tries one replacement per period
  s.loading_grace = 10ms;
  pool_fixture f(1, s);
  auto replaced = f.replaced.get_future();
  caf::anon_send_exit(f.worker(0), caf::exit_reason::kill);
  BOOST_REQUIRE(replaced.wait_for(reply_wait) == std::future_status::ready);
  caf::scoped_actor self{f.sys};
  self->request(f.pool, reply_wait, prep_atom::value, small_png(), small_input(), 0, steady_time::max())
      .receive([](preprocessed& p) { BOOST_TEST(!p.failure.has_value()); },
               [](caf::error& e) { BOOST_FAIL("the replacement did not answer: " + caf::to_string(e)); });
  self->request(f.pool, reply_wait, ping_atom::value).receive([](bool ready) { BOOST_TEST(ready); },
                                                               [](caf::error&) { BOOST_FAIL("no readiness"); });
  std::lock_guard<std::mutex> g(f.mutex);
  // (reported on changes only) the death: unhealthy; the replacement serving: healthy again
  BOOST_TEST(f.health == (std::vector<bool>{false, true}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_job_sent_as_its_worker_dies_is_answered_by_the_replacement) {
  pool_fixture f(1);
  caf::scoped_actor self{f.sys};
  caf::anon_send_exit(f.worker(0), caf::exit_reason::kill);
  // The pool may still take the dead worker for serving (its down message on the way): the job then fails
  // there as a dead worker's do and goes back to the queue for the replacement.
  self->request(f.pool, reply_wait, prep_atom::value, small_png(), small_input(), 0, steady_time::max())
      .receive([](preprocessed& p) { BOOST_TEST(!p.failure.has_value(), (p.failure ? p.failure->message : "")); },
               [](caf::error& e) { BOOST_FAIL("no answer: " + caf::to_string(e)); });
  std::lock_guard<std::mutex> g(f.mutex);
  BOOST_TEST(f.spawned.size() == 2u);  // the first worker and its replacement
}

BOOST_AUTO_TEST_SUITE_END()
