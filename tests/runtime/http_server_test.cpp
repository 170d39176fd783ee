// The HTTP server (runtime/http_server.hpp) on a loopback port: it answers through its handler, keeps a
// request within its size bound, refuses a malformed or taken address with an error naming `http.listen`,
// and stops cleanly.
#include <boost/test/unit_test.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <optional>
#include <thread>

#include "runtime/http_server.hpp"
#include "support/free_port.hpp"
#include "support/http_client.hpp"

using namespace infermesh;
using namespace std::chrono_literals;

namespace {

/// A server on a free loopback port that echoes the method and target.
struct echo_server {
  std::atomic<int> handled{0};
  http_options options;
  std::unique_ptr<infermesh::http_server> server;

  explicit echo_server(std::size_t max_request_bytes = 16 * 1024, std::size_t max_connections = 64) {
    options.max_request_bytes = max_request_bytes;
    options.max_connections = max_connections;
    for (int attempt = 0; attempt < 5 && !server; ++attempt) {  // a free port can be taken meanwhile
      options.listen = "127.0.0.1:" + std::to_string(test::free_loopback_port());
      auto started = infermesh::http_server::start(options, [this](const http_request_line& req) {
        ++handled;
        return http_answer{req.target == "/missing" ? 404 : 200, "text/plain", req.method + " " + req.target, {}};
      });
      if (started) server = std::move(*started);
    }
    BOOST_REQUIRE(server);
  }
  int port() const { return server->port(); }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(http_server)

BOOST_AUTO_TEST_CASE(an_address_is_host_colon_port_with_an_ip_address) {
  auto v4 = parse_listen_address("127.0.0.1:9464");
  BOOST_REQUIRE(v4);
  BOOST_TEST(v4->host == "127.0.0.1");
  BOOST_TEST(v4->port == 9464);
  auto v6 = parse_listen_address("[::1]:9464");
  BOOST_REQUIRE(v6);
  BOOST_TEST(v6->host == "::1");
  auto local = parse_listen_address("localhost:80");
  BOOST_REQUIRE(local);
  BOOST_TEST(local->host == "127.0.0.1");
  for (const auto* bad : {"", "9464", ":9464", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:94x4", "::1:9464", "example.com:9464", "300.1.1.1:9464"}) {
    auto parsed = parse_listen_address(bad);
    BOOST_TEST(!parsed, "'" << bad << "' was accepted");
    if (!parsed) BOOST_TEST((parsed.err().code == error_code::bad_request));
  }
}

BOOST_AUTO_TEST_CASE(a_request_reaches_the_handler_and_its_answer_the_client) {
  echo_server s;
  auto ok = test::http_get(s.port(), "/v2/health/live?x=1");
  BOOST_REQUIRE(ok);
  BOOST_TEST(ok->status == 200);
  BOOST_TEST(ok->body == "GET /v2/health/live?x=1");
  BOOST_TEST(ok->content_type == "text/plain");
  auto missing = test::http_request(s.port(), "POST", "/missing");
  BOOST_REQUIRE(missing);
  BOOST_TEST(missing->status == 404);
  BOOST_TEST(missing->body == "POST /missing");
  BOOST_TEST(s.handled == 2);
}

BOOST_AUTO_TEST_CASE(a_request_over_the_size_bound_is_refused_without_reaching_the_handler) {
  constexpr std::size_t bound = 1024;  // small, so a header of 4 KiB is clearly over it
  echo_server s(bound);
  const std::string huge_header = "GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(4 * bound, 'a') + "\r\n\r\n";
  BOOST_TEST(test::raw_http_status(s.port(), huge_header) == 431);
  const std::string huge_body = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(4 * bound) + "\r\n\r\n" +
                                std::string(4 * bound, 'b');
  BOOST_TEST(test::raw_http_status(s.port(), huge_body) == 413);
  BOOST_TEST(test::raw_http_status(s.port(), "NOT HTTP AT ALL\r\n\r\n") == 400);
  BOOST_TEST(s.handled == 0);
  auto still = test::http_get(s.port(), "/after");
  BOOST_REQUIRE(still);
  BOOST_TEST(still->status == 200, "the server keeps serving");
}

BOOST_AUTO_TEST_CASE(a_malformed_or_taken_address_is_an_error_naming_http_listen) {
  auto bad = infermesh::http_server::start({"127.0.0.1:http"}, [](const http_request_line&) { return http_answer{}; });
  BOOST_REQUIRE(!bad);
  BOOST_TEST((bad.err().code == error_code::bad_request));
  BOOST_TEST(bad.err().message.find("http.listen") != std::string::npos, bad.err().message);
  echo_server first;
  auto taken = infermesh::http_server::start(first.options, [](const http_request_line&) { return http_answer{}; });
  BOOST_REQUIRE(!taken);
  BOOST_TEST(taken.err().message.find("http.listen") != std::string::npos, taken.err().message);
  BOOST_TEST(taken.err().message.find(first.options.listen) != std::string::npos, taken.err().message);
  auto foreign = infermesh::http_server::start({"192.0.2.1:9464"}, [](const http_request_line&) { return http_answer{}; });
  BOOST_REQUIRE_MESSAGE(!foreign, "192.0.2.1 (TEST-NET-1) is no address of this host");
  BOOST_TEST(foreign.err().message.find("http.listen") != std::string::npos, foreign.err().message);
}

BOOST_AUTO_TEST_CASE(connections_over_the_bound_are_closed_until_one_ends) {
  echo_server s(16 * 1024, 1);
  const int idle = ::socket(AF_INET, SOCK_STREAM, 0);  // connected, sends nothing: holds the only slot
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(s.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  BOOST_REQUIRE(::connect(idle, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  BOOST_TEST(!test::http_get(s.port(), "/over", 5s), "a second connection is closed at once");
  ::close(idle);
  std::optional<test::http_reply> after;
  for (int attempt = 0; attempt < 50 && !after; ++attempt) {  // until the server has seen the first one end
    after = test::http_get(s.port(), "/after", 5s);
    if (!after) std::this_thread::sleep_for(20ms);
  }
  BOOST_REQUIRE(after);
  BOOST_TEST(after->status == 200);
}

BOOST_AUTO_TEST_CASE(a_stopped_server_no_longer_answers_and_stopping_twice_is_harmless) {
  echo_server s;
  const int port = s.port();
  BOOST_REQUIRE(test::http_get(port, "/"));
  s.server->stop();
  s.server->stop();
  BOOST_TEST(!test::http_get(port, "/", 2s));
}

BOOST_AUTO_TEST_SUITE_END()
