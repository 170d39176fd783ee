// The OCR pool as the supervisor of its engine workers (real Tesseract engines, real time: the workers are
// detached): an engine killed while it reads a page goes through the one lifecycle — replaced after its
// back-off with a fresh engine — and the page it held is read again; past the restart intensity the pool
// reports the model unhealthy. Engines are crashed through the fault door, as a node does it.

#include <boost/test/unit_test.hpp>

#include <atomic>
#include <future>

#include "actors/fault_door.hpp"
#include "actors/ocr_pool.hpp"
#include "support/node_process.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// A Tesseract engine that says when its first page read starts (so a test can crash it mid-read).
class announcing_engine final : public ocr_engine {
 public:
  explicit announcing_engine(std::unique_ptr<ocr_engine> inner) : inner_(std::move(inner)) {}
  outcome<ocr_page> read(const shared_bytes& image, int known_rotation, bool auto_rotate, ocr_deadline deadline) override {
    if (!announced_.exchange(true)) reading_.set_value();
    return inner_->read(image, known_rotation, auto_rotate, deadline);
  }
  outcome<page_rotation> orientation(const shared_bytes& image, ocr_deadline deadline) override {
    return inner_->orientation(image, deadline);
  }
  std::future<void> reading() { return reading_.get_future(); }

 private:
  std::unique_ptr<ocr_engine> inner_;
  std::atomic<bool> announced_{false};
  std::promise<void> reading_;
};

shared_bytes receipt() {
  static const std::string bytes = test::read_file(std::string(INFERMESH_SOURCE_DIR) + "/samples/receipt-upright.jpg");
  return shared_bytes::copy_of(bytes);
}

struct pool_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  fault_door door;
  std::atomic<int> replacements{0};
  std::atomic<int> unhealthy_reports{0}, healthy_reports{0};
  std::promise<void> unhealthy;  // set on the first unhealthy report
  std::future<void> first_read;  // ready once the first engine started reading a page
  step_actor pool;

  /// One engine; `supervision` for it.
  explicit pool_fixture(supervision_config supervision) {
    ocr_pool_setup s;
    s.model_name = "tesseract-eng";
    s.model_version = "5";
    s.supervision = supervision;
    s.make_engine = []() -> outcome<std::unique_ptr<ocr_engine>> {
      auto e = tesseract_ocr::create({});
      if (!e) return e.err();
      return std::unique_ptr<ocr_engine>(std::move(*e));
    };
    s.on_health = [this](bool healthy) {
      if (!healthy && unhealthy_reports++ == 0) unhealthy.set_value();
      if (healthy) ++healthy_reports;
    };
    s.on_worker_ready = [this](const lifecycle& life) {
      if (life.restarts() > 0) ++replacements;
    };
    s.worker_hook = [this](std::size_t slot) { return door.spawned_hook("tesseract-eng", fault_target::engine, slot); };
    auto first = s.make_engine();
    BOOST_REQUIRE(first);
    auto engine = std::make_shared<announcing_engine>(std::move(*first));
    first_read = engine->reading();
    pool = spawn_ocr_pool(sys, s, {engine});
  }
  ~pool_fixture() { caf::anon_send_exit(pool, caf::exit_reason::user_shutdown); }

  void crash_engine() {
    fault f;
    f.model = "tesseract-eng";
    f.target = fault_target::engine;
    // The door knows an engine once it was spawned; the pool is ready once every engine serves.
    caf::scoped_actor self{sys};
    self->request(pool, 30s, ping_atom::value).receive([](bool) {}, [](caf::error&) { BOOST_FAIL("not ready"); });
    BOOST_REQUIRE(!door.apply(f));
  }

  step_request pages(std::size_t n) {
    step_request r;
    r.step = step_kind::ocr;
    r.pages.assign(n, receipt());
    r.auto_rotate = false;
    return r;
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(ocr_pool)

BOOST_AUTO_TEST_CASE(an_engine_killed_while_reading_is_replaced_and_its_page_is_read_again) {
  pool_fixture f({5, 60000ms, 10ms, 10ms, 3, 10000ms});
  caf::scoped_actor self{f.sys};
  self->send(f.pool, step_atom::value, f.pages(2));  // one engine: the second page waits for the first
  BOOST_REQUIRE((f.first_read.wait_for(30s) == std::future_status::ready));  // the first page is being read
  f.crash_engine();
  self->receive(
      [&](step_reply& r) {
        BOOST_REQUIRE_MESSAGE(!r.failure, (r.failure ? r.failure->message : ""));
        BOOST_REQUIRE(r.text.has_value());
        for (const auto& page : *r.text) BOOST_TEST(page.text.find("343.21") != std::string::npos, page.text);
      },
      caf::after(60s) >> [] { BOOST_FAIL("no answer"); });
  BOOST_TEST(f.replacements.load() == 1);
  BOOST_TEST(f.unhealthy_reports.load() == 0, "a quick replacement never gates the node");
}

BOOST_AUTO_TEST_CASE(an_engine_killed_past_its_restart_intensity_makes_the_model_unhealthy) {
  pool_fixture f({0, 60000ms, 10ms, 10ms, 3, 10000ms});  // no restart allowed within a minute
  caf::scoped_actor self{f.sys};
  f.crash_engine();
  BOOST_REQUIRE((f.unhealthy.get_future().wait_for(30s) == std::future_status::ready));
  BOOST_TEST(f.unhealthy_reports.load() == 1);
  BOOST_TEST(f.healthy_reports.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()
