// Readiness as plain policy (runtime/readiness.hpp): which inputs make a node or a model ready, and the reason
// a probe reads when it is not. No sockets, no actors.
#include <boost/test/unit_test.hpp>

#include "runtime/readiness.hpp"

using namespace infermesh;

namespace {

/// A node that serves: connected, subscribed, its two models serving.
readiness_inputs serving_node() {
  readiness_inputs in;
  in.connected = true;
  in.subscribed = true;
  in.models = {{"classifier", model_phase::serving}, {"orientation", model_phase::serving}};
  return in;
}

bool mentions(const readiness_verdict& v, const std::string& text) { return v.reason.find(text) != std::string::npos; }

}  // namespace

BOOST_AUTO_TEST_SUITE(readiness)

BOOST_AUTO_TEST_CASE(a_connected_subscribed_node_whose_models_serve_is_ready) {
  const auto v = node_readiness(serving_node());
  BOOST_TEST(v.status == 200);
  BOOST_TEST(v.ready());
  BOOST_TEST(v.reason == "ready");
}

BOOST_AUTO_TEST_CASE(a_model_still_loading_makes_the_node_not_ready_and_is_named) {
  auto in = serving_node();
  in.subscribed = false;  // start-up: ops are subscribed after every model loaded
  in.models[1].phase = model_phase::loading;
  const auto v = node_readiness(in);
  BOOST_TEST(v.status == 503);
  BOOST_TEST(v.reason == "loading model 'orientation'");
}

BOOST_AUTO_TEST_CASE(an_unhealthy_model_makes_the_node_not_ready_and_is_named) {
  auto in = serving_node();
  in.models[0].phase = model_phase::unhealthy;
  const auto v = node_readiness(in);
  BOOST_TEST(v.status == 503);
  BOOST_TEST(v.reason == "model 'classifier' is unhealthy");
}

BOOST_AUTO_TEST_CASE(a_node_without_nats_is_not_ready_even_when_its_models_serve) {
  auto in = serving_node();
  in.connected = false;
  const auto v = node_readiness(in);
  BOOST_TEST(v.status == 503);
  BOOST_TEST(v.reason == "not connected to NATS");
}

BOOST_AUTO_TEST_CASE(every_reason_is_given_at_once) {
  auto in = serving_node();
  in.connected = false;
  in.draining = true;
  in.router_healthy = false;
  in.models[0].phase = model_phase::loading;
  in.models[1].phase = model_phase::unhealthy;
  const auto v = node_readiness(in);
  BOOST_TEST(v.status == 503);
  for (const auto* reason : {"draining", "not connected to NATS", "loading model 'classifier'",
                             "model 'orientation' is unhealthy", "the router is unhealthy"})
    BOOST_TEST(mentions(v, reason), v.reason << " names " << reason);
}

BOOST_AUTO_TEST_CASE(a_node_not_subscribed_yet_is_not_ready_when_nothing_else_explains_it) {
  auto in = serving_node();
  in.subscribed = false;
  const auto v = node_readiness(in);
  BOOST_TEST(v.status == 503);
  BOOST_TEST(v.reason == "not subscribed to its ops yet");
}

BOOST_AUTO_TEST_CASE(a_draining_node_is_not_ready) {
  auto in = serving_node();
  in.draining = true;
  BOOST_TEST(node_readiness(in).reason == "draining");
}

BOOST_AUTO_TEST_CASE(a_model_is_ready_while_it_serves_whatever_nats_does) {
  auto in = serving_node();
  in.connected = false;
  BOOST_TEST(model_readiness_of(in, "classifier").status == 200);
}

BOOST_AUTO_TEST_CASE(a_loading_or_unhealthy_model_is_503_with_its_reason) {
  auto in = serving_node();
  in.models[0].phase = model_phase::loading;
  in.models[1].phase = model_phase::unhealthy;
  const auto loading = model_readiness_of(in, "classifier");
  BOOST_TEST(loading.status == 503);
  BOOST_TEST(loading.reason == "loading model 'classifier'");
  const auto unhealthy = model_readiness_of(in, "orientation");
  BOOST_TEST(unhealthy.status == 503);
  BOOST_TEST(unhealthy.reason == "model 'orientation' is unhealthy");
}

BOOST_AUTO_TEST_CASE(an_unloaded_model_makes_the_node_not_ready_and_says_unloaded_not_unhealthy) {
  auto in = serving_node();
  in.models[0].phase = model_phase::unloaded;
  const auto v = node_readiness(in);
  BOOST_TEST(v.status == 503);
  BOOST_TEST(v.reason == "model 'classifier' is unloaded");
  const auto m = model_readiness_of(in, "classifier");
  BOOST_TEST(m.status == 503);
  BOOST_TEST(m.reason == "model 'classifier' is unloaded");
}

BOOST_AUTO_TEST_CASE(a_model_that_loads_on_demand_leaves_the_node_ready_but_is_not_ready_itself) {
  auto in = serving_node();
  in.models[1].phase = model_phase::on_demand;
  BOOST_TEST(node_readiness(in).status == 200, "the node serves it by loading it");
  const auto m = model_readiness_of(in, "orientation");
  BOOST_TEST(m.status == 503);
  BOOST_TEST(m.reason == "model 'orientation' is not loaded (loads on demand)");
}

BOOST_AUTO_TEST_CASE(a_model_the_node_does_not_host_is_404) {
  const auto v = model_readiness_of(serving_node(), "resnet");
  BOOST_TEST(v.status == 404);
  BOOST_TEST(mentions(v, "resnet"));
}

BOOST_AUTO_TEST_SUITE_END()
