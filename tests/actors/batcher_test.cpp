#include <boost/test/unit_test.hpp>

#include <map>

#include "actors/batcher.hpp"
#include "actors/model_actor.hpp"
#include "actors/preprocessor.hpp"
#include "models/synthetic_model.hpp"
#include "support/model_group.hpp"
#include "support/node_process.hpp"
#include "support/virtual_time.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

constexpr auto model_latency = 30ms;  // long enough that requests pile up behind a running batch
constexpr std::size_t max_batch = 4;

struct batcher_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  std::shared_ptr<synthetic_model> model;
  supervised_model_actor model_handle;
  preprocess_actor pool;
  batcher_actor batcher;

  explicit batcher_fixture(std::size_t capacity = 64) {
    model_config mc;
    mc.name = "synthetic";
    mc.labels = {"a", "b", "c"};
    mc.synthetic.latency = model_latency;
    mc.input.width = mc.input.height = 32;
    model = std::make_shared<synthetic_model>(mc);
    model_handle = test::supervised_model(sys, model);
    pool = spawn_preprocessor_pool(sys, 2);
    batcher = spawn_batcher(sys, {"synthetic", {max_batch, 1ms, capacity}, mc.input, model_handle, pool, 3, {}});
  }
  ~batcher_fixture() {
    for (auto a : {caf::actor_cast<caf::actor>(batcher), caf::actor_cast<caf::actor>(model_handle),
                   caf::actor_cast<caf::actor>(pool)})
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  infer_job job(const std::string& image_bytes, steady_time deadline = steady_time::max()) {
    return {shared_bytes::copy_of(image_bytes), 0, std::chrono::steady_clock::now(), deadline};
  }

  /// Sends every job at once and collects one reply per job.
  std::vector<item_result> run_all(const std::vector<infer_job>& jobs) {
    caf::scoped_actor self{sys};
    for (const auto& j : jobs) self->send(batcher, infer_atom::value, j);
    std::vector<item_result> out;
    for (std::size_t i = 0; i < jobs.size(); ++i)
      self->receive([&](item_result& r) { out.push_back(std::move(r)); },
                    caf::after(std::chrono::seconds(30)) >> [&] { BOOST_FAIL("no reply within 30 s"); });
    return out;
  }
};

const std::string& sample_jpeg() {
  static const std::string bytes = test::read_file(test::sample_image("receipt.jpg"));
  return bytes;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(batcher)

BOOST_FIXTURE_TEST_CASE(answers_every_request_once_and_batches_those_that_queue_behind_a_running_batch,
                        batcher_fixture) {
  constexpr int requests = 12;
  auto results = run_all(std::vector<infer_job>(requests, job(sample_jpeg())));
  BOOST_TEST(results.size() == static_cast<std::size_t>(requests));
  int largest = 0;
  for (const auto& r : results) {
    BOOST_TEST(!r.failure.has_value());
    BOOST_TEST(r.scores.size() == 3u);
    BOOST_TEST(r.batch_size <= static_cast<int>(max_batch));
    largest = std::max(largest, r.batch_size);
  }
  BOOST_TEST(largest > 1);
  caf::scoped_actor self{sys};
  self->request(batcher, 5s, stats_atom::value).receive(
      [&](const batcher_stats& s) {
        BOOST_TEST(s.requests == static_cast<std::uint64_t>(requests));
        BOOST_TEST(s.batched_items == static_cast<std::uint64_t>(requests));
        BOOST_TEST(s.batches < static_cast<std::uint64_t>(requests));
      },
      [](const caf::error&) { BOOST_FAIL("no stats"); });
}

BOOST_AUTO_TEST_CASE(refuses_with_overloaded_at_once_when_the_queue_is_full) {
  constexpr std::size_t capacity = 2;
  batcher_fixture f(capacity);
  auto results = f.run_all(std::vector<infer_job>(8, f.job(sample_jpeg())));
  int overloaded = 0, ok = 0;
  for (const auto& r : results) {
    if (!r.failure) ++ok;
    else if (r.failure->code == error_code::overloaded) ++overloaded;
  }
  BOOST_TEST(overloaded > 0);
  BOOST_TEST(ok >= static_cast<int>(capacity));
  BOOST_TEST(ok + overloaded == 8);
}

BOOST_FIXTURE_TEST_CASE(answers_undecodable_images_with_unsupported_media_and_keeps_serving, batcher_fixture) {
  auto results = run_all({job("this is not an image"), job(sample_jpeg().substr(0, 100)), job(sample_jpeg())});
  std::map<std::string, int> codes;
  for (const auto& r : results) ++codes[r.failure ? std::string(to_string(r.failure->code)) : "ok"];
  BOOST_TEST(codes["unsupported_media"] == 2);
  BOOST_TEST(codes["ok"] == 1);
}

BOOST_FIXTURE_TEST_CASE(drops_a_request_whose_deadline_passed_before_compute, batcher_fixture) {
  const auto already_due = std::chrono::steady_clock::now();
  auto results = run_all({job(sample_jpeg()), job(sample_jpeg(), already_due)});
  std::map<std::string, int> codes;
  for (const auto& r : results) ++codes[r.failure ? std::string(to_string(r.failure->code)) : "ok"];
  BOOST_TEST(codes["deadline_exceeded"] == 1);
  BOOST_TEST(codes["ok"] == 1);
}

BOOST_FIXTURE_TEST_CASE(fails_a_whole_batch_with_internal_when_the_model_fails_and_serves_the_next, batcher_fixture) {
  model->fail_next(1);
  auto failed = run_all({job(sample_jpeg())});
  BOOST_REQUIRE(failed.at(0).failure.has_value());
  BOOST_TEST(to_string(failed.at(0).failure->code) == "internal");
  auto next = run_all({job(sample_jpeg())});
  BOOST_TEST(!next.at(0).failure.has_value());
}

BOOST_AUTO_TEST_SUITE_END()

// The batcher's timing on CAF's virtual time: scheduled test doubles for the preprocessing pool (answers after a
// delay named by the image bytes, "after:<ms>") and the model (counts batches and their sizes).
namespace {

using delayed_prep_impl = preprocess_actor::extend<caf::reacts_to<wake_atom, std::uint64_t>>;

struct delayed_prep_state {
  test::deferred_answers<preprocessed> answers;
  static inline const char* name = "test-preprocessor";
};

delayed_prep_impl::behavior_type delayed_preprocessor(delayed_prep_impl::stateful_pointer<delayed_prep_state> self,
                                                      std::size_t tensor_size) {
  return {
      [=](prep_atom, const shared_bytes& image, const input_spec&, int, steady_time) -> caf::result<preprocessed> {
        const auto ms = std::stoi(std::string(image.view().substr(6)));
        if (ms == 0) return preprocessed{std::nullopt, std::vector<float>(tensor_size)};
        auto p = self->make_response_promise<preprocessed>();
        self->delayed_send(self, std::chrono::milliseconds(ms), wake_atom::value, self->state.answers.keep(p));
        return p;
      },
      [=](split_atom, const shared_bytes&, int, const document_limits&, steady_time) { return split_result{}; },
      [](ping_atom) { return true; },
      [=](wake_atom, std::uint64_t ticket) {
        self->state.answers.deliver(ticket, preprocessed{std::nullopt, std::vector<float>(tensor_size)});
      },
  };
}

supervised_model_actor::behavior_type counting_model(supervised_model_actor::pointer, std::vector<std::size_t>* batches) {
  return {
      [=](run_atom, const tensor_batch& b) -> batch_run_result {
        batches->push_back(b.count);
        return {std::nullopt, {b.count, 1, std::vector<float>(b.count, 1.0f)}, 1.0, false};
      },
      [](ping_atom) { return true; },
      [](status_atom) { return child_status{}; },
  };
}

struct virtual_batcher_fixture : test::virtual_time {
  static constexpr auto max_delay = std::chrono::milliseconds(10);
  std::vector<std::size_t> batches;
  batcher_actor batcher;

  virtual_batcher_fixture() {
    input_spec spec;
    spec.width = spec.height = 2;
    auto prep = keep(sys.spawn(delayed_preprocessor, spec.tensor_size()));
    auto model = keep(sys.spawn(counting_model, &batches));
    batcher = keep(spawn_batcher(sys, {"counting", {4, max_delay, 64}, spec, model, prep, 3, {}}));
  }
  void send(int preprocess_ms, steady_time deadline = steady_time::max()) {
    const auto bytes = "after:" + std::to_string(preprocess_ms);
    self->send(batcher, infer_atom::value, infer_job{shared_bytes::copy_of(bytes), 0, now(), deadline});
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(batcher_on_virtual_time)

BOOST_FIXTURE_TEST_CASE(a_partial_batch_fires_when_its_oldest_request_waited_max_queue_delay, virtual_batcher_fixture) {
  send(0);   // ready at once...
  send(50);  // ...while this one is still being preprocessed: the batcher waits for it, up to max_delay
  run();
  advance(9ms);
  BOOST_TEST(batches.empty(), "9 ms < max_queue_delay");
  advance(1ms);
  BOOST_TEST(batches == std::vector<std::size_t>{1}, boost::test_tools::per_element());
  advance(40ms);  // the second is ready; nothing else is coming: it runs at once
  BOOST_TEST(batches == (std::vector<std::size_t>{1, 1}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(requests_ready_together_form_one_batch_without_waiting, virtual_batcher_fixture) {
  for (int i = 0; i < 3; ++i) send(5);
  run();
  advance(5ms);
  BOOST_TEST(batches == std::vector<std::size_t>{3}, boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(queue_wait_is_counted_from_arrival_at_the_batcher_to_its_batch_start, virtual_batcher_fixture) {
  send(7);
  run();
  advance(7ms);
  self->receive([](item_result& r) {
                  BOOST_TEST(!r.failure.has_value());
                  BOOST_TEST(r.queue_ms == 7.0, "preprocessing included, nothing before the batcher");
                },
                caf::after(0s) >> [] { BOOST_FAIL("no answer"); });
}

BOOST_FIXTURE_TEST_CASE(a_request_whose_preprocessing_outlives_its_deadline_is_answered_at_the_deadline, virtual_batcher_fixture) {
  // The preprocessor takes 10 s (a worker stuck on a hostile file); the request's deadline is 100 ms away: the
  // batcher asks with the remaining time and answers deadline_exceeded then, not when the worker is done.
  send(10000, now() + 100ms);
  run();
  advance(99ms);
  self->receive([](item_result&) { BOOST_FAIL("answered before its deadline"); }, caf::after(0s) >> [] {});
  advance(1ms);
  self->receive(
      [](item_result& r) {
        BOOST_REQUIRE(r.failure.has_value());
        BOOST_TEST(to_string(r.failure->code) == "deadline_exceeded", r.failure->message);
      },
      caf::after(0s) >> [] { BOOST_FAIL("no answer at the deadline"); });
  BOOST_TEST(batches.empty());
}

BOOST_AUTO_TEST_SUITE_END()
