// The node's HTTP paths (runtime/http_routes.hpp) as plain code: which path answers what, 404 and 405, the
// model name taken from the path. The sources are plain lambdas: no sockets, no actors.
#include <boost/test/unit_test.hpp>

#include "runtime/http_routes.hpp"

using namespace infermesh;

namespace {

struct routes {
  std::string live_problem;  // "" = live
  readiness_inputs inputs = [] {
    readiness_inputs in;
    in.connected = in.subscribed = true;
    in.models = {{"doc-classifier", model_phase::serving}, {"doc orientation", model_phase::loading}};
    return in;
  }();
  int scrapes = 0;
  http_sources sources{[this] { return live_problem; }, [this] { return inputs; },
                       [this] {
                         ++scrapes;
                         return std::string("infermesh_up 1\n");
                       }};

  http_answer get(const std::string& target, const std::string& method = "GET") {
    return answer_http(sources, {method, target});
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_routes)

BOOST_FIXTURE_TEST_CASE(live_is_200_while_the_actors_respond_and_503_with_the_reason_when_not, routes) {
  BOOST_TEST(get("/v2/health/live").status == 200);
  live_problem = "the router does not answer";
  const auto a = get("/v2/health/live");
  BOOST_TEST(a.status == 503);
  BOOST_TEST(a.body.find("the router does not answer") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(ready_says_why_the_node_is_not_ready, routes) {
  const auto a = get("/v2/health/ready");
  BOOST_TEST(a.status == 503);
  BOOST_TEST(a.body == "not ready: loading model 'doc orientation'\n");
  inputs.models[1].phase = model_phase::serving;
  BOOST_TEST(get("/v2/health/ready").status == 200);
  BOOST_TEST(get("/v2/health/ready?verbose=1").status == 200, "a query string is ignored");
}

BOOST_FIXTURE_TEST_CASE(a_models_ready_path_names_it_and_an_unknown_model_is_404, routes) {
  BOOST_TEST(get("/v2/models/doc-classifier/ready").status == 200);
  BOOST_TEST(get("/v2/models/doc%20orientation/ready").status == 503, "the name is percent-decoded");
  const auto unknown = get("/v2/models/resnet/ready");
  BOOST_TEST(unknown.status == 404);
  BOOST_TEST(unknown.body.find("resnet") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(metrics_are_served_in_the_prometheus_text_format, routes) {
  const auto a = get("/metrics");
  BOOST_TEST(a.status == 200);
  BOOST_TEST(a.body == "infermesh_up 1\n");
  BOOST_TEST(a.content_type == prometheus_text_type);
}

BOOST_FIXTURE_TEST_CASE(an_unknown_path_is_404_and_asks_no_source, routes) {
  for (const auto* target : {"/", "/v2", "/v2/health", "/v2/models//ready", "/v2/models/a/b/ready", "/metricsx"}) {
    BOOST_TEST(get(target).status == 404, target);
  }
  BOOST_TEST(scrapes == 0);
}

BOOST_FIXTURE_TEST_CASE(another_method_than_get_is_405_with_allow_get, routes) {
  for (const auto* method : {"POST", "PUT", "DELETE", "HEAD"}) {
    const auto a = get("/metrics", method);
    BOOST_TEST(a.status == 405, method);
    BOOST_REQUIRE(a.headers.size() == 1u);
    BOOST_TEST(a.headers[0].first == "Allow");
    BOOST_TEST(a.headers[0].second == "GET");
  }
  BOOST_TEST(scrapes == 0);
}

BOOST_AUTO_TEST_SUITE_END()
