#include <boost/test/unit_test.hpp>

#include <mutex>
#include <set>

#include "actors/batcher.hpp"
#include "actors/model_actor.hpp"
#include "actors/model_step.hpp"
#include "actors/preprocessor.hpp"
#include "actors/router.hpp"
#include "messages/codec.hpp"
#include "models/synthetic_model.hpp"
#include "support/model_group.hpp"
#include "support/node_process.hpp"
#include "support/pdf_writer.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// Collects what the router publishes; the router's publish function is its only way out.
struct published {
  std::mutex mutex;
  std::condition_variable changed;
  std::vector<std::pair<std::string, std::string>> messages;

  void add(const std::string& subject, std::string_view payload) {
    std::lock_guard<std::mutex> g(mutex);
    messages.emplace_back(subject, std::string(payload));
    changed.notify_all();
  }
  /// Waits (bounded) for `n` messages and decodes the n-th reply.
  reply nth(std::size_t n) {
    std::unique_lock<std::mutex> lock(mutex);
    BOOST_REQUIRE(changed.wait_for(lock, 30s, [&] { return messages.size() >= n; }));
    auto r = decode_reply(shared_bytes::copy_of(messages[n - 1].second));
    BOOST_REQUIRE(r);
    return *r;
  }
};

struct router_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  published out;
  std::vector<caf::actor> actors;
  router_actor router;

  router_fixture() {
    model_config mc;
    mc.name = "synthetic";
    mc.labels = {"dark", "mid", "bright"};
    mc.synthetic.latency = 1ms;
    mc.input.width = mc.input.height = 32;
    auto model = test::supervised_model(sys, std::make_shared<synthetic_model>(mc));
    auto pool = spawn_preprocessor_pool(sys, 1);
    auto batcher = spawn_batcher(sys, {"synthetic", {4, 1ms, 16}, mc.input, model, pool, 3, {}});
    router_setup setup;
    setup.node_name = "router-test";
    auto step = spawn_model_step(sys, {step_kind::classify, batcher, "synthetic", "7", mc.labels});
    setup.pipelines = {{"classify", {step_kind::classify}}, {"process", default_pipelines().at("process")}};
    setup.local_steps[step_kind::classify] = step;
    setup.limits = {1u << 20, 1u << 20};
    setup.publish = [this](const std::string& s, std::string_view p) { out.add(s, p); };
    router = spawn_router(sys, std::move(setup));
    actors = {caf::actor_cast<caf::actor>(router), caf::actor_cast<caf::actor>(step), caf::actor_cast<caf::actor>(batcher),
              caf::actor_cast<caf::actor>(model), caf::actor_cast<caf::actor>(pool)};
  }
  ~router_fixture() {
    for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  void incoming(const std::string& op, const std::string& payload, const std::string& reply_to = "inbox",
                steady_time received = std::chrono::steady_clock::now()) {
    caf::anon_send(router, incoming_atom::value, op, shared_bytes::copy_of(payload), reply_to, received, backlog_ticket{});
  }
};

request sample(const std::string& file, const std::string& id) {
  request r;
  r.id = id;
  r.image = shared_bytes::copy_of(test::read_file(test::sample_image(file)));
  return r;
}

std::string request_for(const std::string& file, encoding enc, const std::string& id = "") {
  return encode_request(sample(file, id), enc);
}

/// The router's counters now.
router_stats stats_of(caf::actor_system& sys, const router_actor& router) {
  router_stats out;
  caf::scoped_actor self{sys};
  self->request(router, 5s, stats_atom::value).receive([&](const router_stats& s) { out = s; },
                                                       [](const caf::error&) { BOOST_FAIL("no stats"); });
  return out;
}

/// A step that takes every request and never answers: what it was asked stays in flight until its deadline.
struct silent_step_state {
  std::vector<caf::typed_response_promise<step_reply>> held;
  static inline const char* name = "silent_step";
};
step_actor::behavior_type silent_step(step_actor::stateful_pointer<silent_step_state> self, int /*unused*/) {
  return {
      [=](step_atom, const step_request&) -> caf::result<step_reply> {
        auto promise = self->make_response_promise<step_reply>();
        self->state.held.push_back(promise);
        return promise;
      },
      [](ping_atom) { return true; },
  };
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(router, router_fixture)

BOOST_AUTO_TEST_CASE(answers_a_request_on_its_reply_subject_with_labels_model_and_node) {
  incoming("classify", request_for("receipt.jpg", encoding::msgpack, "r1"), "_INBOX.abc");
  auto rep = out.nth(1);
  BOOST_TEST(out.messages[0].first == "_INBOX.abc");
  BOOST_TEST(rep.ok);
  BOOST_TEST(rep.id == "r1");
  BOOST_TEST(rep.node == "router-test");
  BOOST_REQUIRE(rep.model.has_value());
  BOOST_TEST(rep.model->name == "synthetic");
  BOOST_TEST(rep.model->version == "7");
  BOOST_TEST((rep.models == std::vector<model_ref>{{"synthetic", "7"}}));
  const auto* label = rep.result.find("doc_type")->get_if<std::string>();
  BOOST_REQUIRE(label != nullptr);
  BOOST_TEST((*label == "dark" || *label == "mid" || *label == "bright"));
  BOOST_TEST(rep.time.total_ms >= rep.time.compute_ms);
}

BOOST_AUTO_TEST_CASE(the_same_id_for_another_op_is_answered_by_that_op_not_from_the_cache) {
  incoming("classify", request_for("receipt.jpg", encoding::msgpack, "reused"));
  BOOST_REQUIRE(out.nth(1).ok);
  incoming("process", request_for("receipt.jpg", encoding::msgpack, "reused"));
  auto rep = out.nth(2);
  BOOST_TEST(rep.op == "process");
  BOOST_TEST(to_string(rep.failure->code) == "unavailable", "computed: this router cannot orient");
  BOOST_TEST(stats_of(sys, router).repeats == 0u);
}

BOOST_AUTO_TEST_CASE(the_same_id_with_another_image_is_refused_naming_id_and_the_field) {
  incoming("classify", request_for("receipt.jpg", encoding::msgpack, "one-id"));
  BOOST_REQUIRE(out.nth(1).ok);
  incoming("classify", request_for("invoice.jpg", encoding::json, "one-id"));
  auto rep = out.nth(2);
  BOOST_REQUIRE(!rep.ok);
  BOOST_TEST(to_string(rep.failure->code) == "bad_request");
  BOOST_TEST(rep.id == "one-id");
  BOOST_TEST(rep.failure->message.find("'id'") != std::string::npos, rep.failure->message);
  BOOST_TEST(rep.failure->message.find("'image'") != std::string::npos, rep.failure->message);
  incoming("classify", request_for("receipt.jpg", encoding::msgpack, "one-id"));
  BOOST_TEST(out.nth(3).ok, "the first request is still answered from the cache");
}

BOOST_AUTO_TEST_CASE(a_retry_with_another_deadline_and_priority_is_answered_from_the_cache) {
  auto first = sample("receipt.jpg", "retried");
  incoming("classify", encode_request(first, encoding::msgpack));
  const auto answer = out.nth(1);
  BOOST_REQUIRE(answer.ok);
  auto retry = first;
  retry.deadline_ms = 777;
  retry.priority = 3;
  incoming("classify", encode_request(retry, encoding::json), "inbox.retry");
  auto again = out.nth(2);
  BOOST_TEST(out.messages[1].first == "inbox.retry");
  BOOST_TEST(again.ok);
  BOOST_TEST(*again.result.find("doc_type")->get_if<std::string>() == *answer.result.find("doc_type")->get_if<std::string>());
  BOOST_TEST(stats_of(sys, router).repeats == 1u);
}

BOOST_AUTO_TEST_CASE(a_forward_with_a_clients_id_and_other_fields_is_computed_not_refused) {
  incoming("classify", request_for("receipt.jpg", encoding::msgpack, "shared"));
  BOOST_REQUIRE(out.nth(1).ok);
  auto forwarded = sample("receipt.jpg", "shared");
  forwarded.hops = 1;
  forwarded.rotation = 90;  // oriented on the node that forwards it
  incoming("classify", encode_request(forwarded, encoding::msgpack));
  BOOST_TEST(out.nth(2).ok);
  auto other = sample("invoice.jpg", "shared");
  other.hops = 1;
  incoming("classify", encode_request(other, encoding::msgpack));
  BOOST_TEST(out.nth(3).ok, "two forwards with one id and other bytes: each computed");
  BOOST_TEST(stats_of(sys, router).repeats == 0u);
}

BOOST_AUTO_TEST_CASE(answers_in_the_encoding_of_the_request) {
  incoming("classify", request_for("receipt.jpg", encoding::json));
  out.nth(1);
  BOOST_TEST(out.messages[0].second.front() == '{');
}

BOOST_AUTO_TEST_CASE(generates_an_id_when_the_client_sent_none) {
  incoming("classify", request_for("receipt.jpg", encoding::msgpack));
  BOOST_TEST(out.nth(1).id.rfind("router-test-", 0) == 0u);
}

BOOST_AUTO_TEST_CASE(answers_an_op_it_has_no_model_for_with_not_found) {
  incoming("ocr", request_for("receipt.jpg", encoding::msgpack, "x"));
  auto rep = out.nth(1);
  BOOST_TEST(!rep.ok);
  BOOST_TEST(to_string(rep.failure->code) == "not_found");
  BOOST_TEST(rep.failure->message.find("'ocr'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(answers_unavailable_when_a_step_is_neither_local_nor_reachable) {
  incoming("process", request_for("receipt.jpg", encoding::msgpack, "p"));
  auto rep = out.nth(1);
  BOOST_TEST(to_string(rep.failure->code) == "unavailable");
  BOOST_TEST(rep.failure->message.find("'orient'") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(skips_orientation_when_the_request_says_how_the_page_is_turned) {
  request r;
  r.image = shared_bytes::copy_of(test::read_file(test::sample_image("receipt.jpg")));
  r.rotation = 90;
  r.id = "turned";
  incoming("classify", encode_request(r, encoding::msgpack));
  auto rep = out.nth(1);
  BOOST_REQUIRE(rep.ok);
  const auto* rotation = rep.result.find("rotation");
  BOOST_REQUIRE(rotation != nullptr);
  BOOST_TEST(*rotation->find("degrees")->get_if<std::int64_t>() == 90);
  BOOST_TEST(*rotation->find("corrected")->get_if<bool>());
}

BOOST_AUTO_TEST_CASE(answers_unsupported_media_for_an_image_that_is_not_png_jpeg_tiff_or_pdf) {
  // A grey PGM decodes (it is the page format of split documents) but is not in the contract; GIF is neither.
  for (const std::string& image : {std::string("P5\n2 2\n255\n\x01\x02\x03\x04"), std::string("GIF89a not supported")}) {
    request r;
    r.id = image.substr(0, 2);
    r.image = shared_bytes::copy_of(image);
    incoming("classify", encode_request(r, encoding::msgpack));
  }
  for (std::size_t n : {1u, 2u}) {
    auto rep = out.nth(n);
    BOOST_REQUIRE(rep.failure.has_value());
    BOOST_TEST(to_string(rep.failure->code) == "unsupported_media");
    BOOST_TEST(rep.failure->message.find("PNG, JPEG, TIFF or PDF") != std::string::npos, rep.failure->message);
  }
}

BOOST_AUTO_TEST_CASE(refuses_image_path_which_is_off_by_default) {
  request r;
  r.image_path = "/etc/passwd";
  incoming("classify", encode_request(r, encoding::msgpack));
  auto rep = out.nth(1);
  BOOST_TEST(to_string(rep.failure->code) == "bad_request");
  BOOST_TEST(rep.failure->message.find("image_path") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(drops_a_request_without_reply_subject_and_answers_the_next) {
  incoming("classify", request_for("receipt.jpg", encoding::msgpack, "nobody-listens"), "");
  incoming("classify", request_for("receipt.jpg", encoding::msgpack, "second"));
  BOOST_TEST(out.nth(1).id == "second");
  caf::scoped_actor self{sys};
  self->request(router, 5s, stats_atom::value).receive(
      [](const router_stats& s) { BOOST_TEST(s.no_reply_subject == 1u); }, [](const caf::error&) { BOOST_FAIL("no stats"); });
}

BOOST_AUTO_TEST_CASE(counts_the_deadline_from_when_nats_delivered_the_request) {
  request r;
  r.image = shared_bytes::copy_of(test::read_file(test::sample_image("receipt.jpg")));
  r.id = "waited";
  r.deadline_ms = 1000;
  incoming("classify", encode_request(r, encoding::msgpack), "inbox", std::chrono::steady_clock::now() - 1500ms);
  auto rep = out.nth(1);
  BOOST_REQUIRE(!rep.ok);
  BOOST_TEST(to_string(rep.failure->code) == "deadline_exceeded");
  BOOST_TEST(rep.time.total_ms >= 1500.0, "total_ms counts from delivery: " << rep.time.total_ms);
  r.id = "fresh";  // the same request delivered just now is answered
  incoming("classify", encode_request(r, encoding::msgpack));
  BOOST_TEST(out.nth(2).ok);
}

BOOST_AUTO_TEST_CASE(answers_unavailable_once_draining) {
  caf::anon_send(router, drain_atom::value);
  incoming("classify", request_for("receipt.jpg", encoding::msgpack));
  BOOST_TEST(to_string(out.nth(1).failure->code) == "unavailable");
}

BOOST_AUTO_TEST_CASE(repeats_of_an_id_in_flight_past_max_waiters_are_answered_overloaded_at_once) {
  constexpr std::size_t max_waiters = 4;  // small, to count every answer
  constexpr std::size_t refused = 50;     // repeats past the bound
  constexpr std::int64_t deadline_ms = 3000;  // the held ones are answered when it passes: the step never answers
  auto step = sys.spawn(silent_step, 0);
  router_setup setup;
  setup.node_name = "bounded";
  setup.pipelines = {{"classify", {step_kind::classify}}};
  setup.local_steps[step_kind::classify] = step;
  setup.limits = {1u << 20, 1u << 20};
  setup.max_waiters_per_id = max_waiters;
  setup.publish = [this](const std::string& s, std::string_view p) { out.add(s, p); };
  auto bounded = spawn_router(sys, std::move(setup));
  actors.push_back(caf::actor_cast<caf::actor>(bounded));
  actors.push_back(caf::actor_cast<caf::actor>(step));
  auto r = sample("receipt.jpg", "hot-id");
  r.deadline_ms = deadline_ms;
  const auto payload = encode_request(r, encoding::msgpack);
  for (std::size_t i = 0; i < 1 + max_waiters + refused; ++i)
    caf::anon_send(bounded, incoming_atom::value, std::string("classify"), shared_bytes::copy_of(payload),
                   "inbox." + std::to_string(i), std::chrono::steady_clock::now(), backlog_ticket{});
  // The refusals come first, before the deadline: nothing else can be answered yet.
  for (std::size_t n = 1; n <= refused; ++n) {
    auto rep = out.nth(n);
    BOOST_TEST(to_string(rep.failure->code) == "overloaded");
    BOOST_TEST(rep.id == "hot-id");
    BOOST_TEST(rep.failure->message.find("node.max_waiters_per_id") != std::string::npos, rep.failure->message);
  }
  // Then the first and the repeats held for it, each answered once with the first's answer.
  std::set<std::string> subjects;
  for (std::size_t n = refused + 1; n <= refused + 1 + max_waiters; ++n) {
    auto rep = out.nth(n);
    BOOST_TEST(to_string(rep.failure->code) == "deadline_exceeded");
    subjects.insert(out.messages[n - 1].first);
  }
  BOOST_TEST(subjects.size() == 1 + max_waiters, "every held asker answered once");
  BOOST_TEST(subjects.count("inbox.0") == 1u);
  BOOST_TEST(stats_of(sys, bounded).repeats_refused == refused);
}

BOOST_AUTO_TEST_SUITE_END()

// A document's pages as the router asks for them: a splitter and a classify step that record what they were
// given (test doubles with the real interfaces), and real PDFs.
namespace {

struct asked {
  std::mutex mutex;
  std::vector<int> split_max_pages;     // per split: the pages the router asked for
  std::vector<std::size_t> step_pages;  // per step: the pages it was handed
};

/// Splits into `max_pages` blank pages of `pixels_per_page` each (the pixels are what it reports).
preprocess_actor::behavior_type recording_splitter(preprocess_actor::pointer, asked* log, std::uint64_t pixels_per_page) {
  return {
      [](prep_atom, const shared_bytes&, const input_spec&, int, steady_time) { return preprocessed{}; },
      [=](split_atom, const shared_bytes& doc, int max_pages, const document_limits&, steady_time) {
        {
          std::lock_guard<std::mutex> g(log->mutex);
          log->split_max_pages.push_back(max_pages);
        }
        return split_result{std::nullopt, std::vector<shared_bytes>(static_cast<std::size_t>(max_pages), doc), 30,
                            pixels_per_page * static_cast<std::uint64_t>(max_pages)};
      },
      [](ping_atom) { return true; },
  };
}

step_actor::behavior_type recording_step(step_actor::pointer, asked* log) {
  return {
      [=](step_atom, const step_request& req) {
        {
          std::lock_guard<std::mutex> g(log->mutex);
          log->step_pages.push_back(req.pages.size());
        }
        step_reply r;
        if (req.step == step_kind::orient) r.rotations.assign(req.pages.size(), page_rotation{});
        else r.classified = classification{"letter", 1.0, {{"letter", 1.0}}};
        return r;
      },
      [](ping_atom) { return true; },
  };
}

struct document_router_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  published out;
  asked log;
  std::vector<caf::actor> actors;
  router_actor router;

  explicit document_router_fixture(std::uint64_t pixels_per_page = 1000, std::uint64_t inflight = 400'000'000) {
    auto splitter = sys.spawn(recording_splitter, &log, pixels_per_page);
    auto step = sys.spawn(recording_step, &log);
    router_setup setup;
    setup.node_name = "router-test";
    setup.pipelines = {{"classify", default_pipelines().at("classify")}};
    setup.local_steps[step_kind::orient] = step;
    setup.local_steps[step_kind::classify] = step;
    setup.splitter = splitter;
    setup.max_inflight_document_pixels = inflight;
    setup.limits = {1u << 20, 1u << 20};
    setup.publish = [this](const std::string& s, std::string_view p) { out.add(s, p); };
    router = spawn_router(sys, std::move(setup));
    actors = {caf::actor_cast<caf::actor>(router), caf::actor_cast<caf::actor>(step),
              caf::actor_cast<caf::actor>(splitter)};
  }
  ~document_router_fixture() {
    for (auto& a : actors) caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  void classify(const std::string& id) {
    request r;
    r.id = id;
    r.max_pages = 30;  // the client asks for many pages; classify looks at one
    r.image = shared_bytes::copy_of(test::make_pdf({{"one"}, {"two"}, {"three"}}));
    caf::anon_send(router, incoming_atom::value, std::string("classify"), shared_bytes::copy_of(encode_request(r, encoding::msgpack)),
                   std::string("inbox"), std::chrono::steady_clock::now(), backlog_ticket{});
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(router_documents)

BOOST_AUTO_TEST_CASE(classify_splits_orients_and_classifies_only_page_one_of_a_document) {
  document_router_fixture f;
  f.classify("doc");
  BOOST_TEST(f.out.nth(1).ok);
  std::lock_guard<std::mutex> g(f.log.mutex);
  BOOST_TEST(f.log.split_max_pages == std::vector<int>{1}, boost::test_tools::per_element());
  BOOST_TEST(f.log.step_pages == (std::vector<std::size_t>{1, 1}), boost::test_tools::per_element());  // orient, classify
}

BOOST_AUTO_TEST_CASE(a_document_over_the_nodes_inflight_pixel_bound_is_answered_overloaded) {
  // Each split here holds 1,000 pixels; a bound of 999 is below one document.
  document_router_fixture f(1000, 999);
  f.classify("too-many-pixels");
  auto rep = f.out.nth(1);
  BOOST_REQUIRE(!rep.ok);
  BOOST_TEST(to_string(rep.failure->code) == "overloaded");
  BOOST_TEST(rep.failure->message.find("max_inflight_document_pixels") != std::string::npos, rep.failure->message);
}

BOOST_AUTO_TEST_CASE(pages_are_released_when_answered_so_the_next_document_is_admitted) {
  // A bound of exactly one document: the second is admitted only if the first one's pages were released.
  document_router_fixture f(1000, 1000);
  f.classify("first");
  BOOST_TEST(f.out.nth(1).ok);
  f.classify("second");
  BOOST_TEST(f.out.nth(2).ok);
}

BOOST_AUTO_TEST_SUITE_END()
