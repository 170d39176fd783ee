#include "runtime/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace infermesh {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;

outcome<http_response> http_request(const std::string& host, int port, const std::string& method,
                                    const std::string& target, std::chrono::milliseconds timeout) {
  const auto where = method + " http://" + host + ":" + std::to_string(port) + target;
  const auto verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) return error{error_code::bad_request, where + ": unknown method"};
  try {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    beast::flat_buffer buffer;
    http::request<http::empty_body> request{verb, target, 11};
    request.set(http::field::host, host + ":" + std::to_string(port));
    request.set(http::field::connection, "close");
    request.set(http::field::user_agent, "infermesh");
    http::response_parser<http::string_body> parser;
    parser.body_limit(1u << 20);
    beast::error_code failed;
    bool done = false;
    stream.expires_after(timeout);
    resolver.async_resolve(host, std::to_string(port), [&](beast::error_code e, asio::ip::tcp::resolver::results_type found) {
      if (e) return void(failed = e);
      stream.async_connect(found, [&](beast::error_code e, const asio::ip::tcp::endpoint&) {
        if (e) return void(failed = e);
        http::async_write(stream, request, [&](beast::error_code e, std::size_t) {
          if (e) return void(failed = e);
          http::async_read(stream, buffer, parser, [&](beast::error_code e, std::size_t) {
            if (e) return void(failed = e);
            done = true;
          });
        });
      });
    });
    io.run_for(timeout + std::chrono::milliseconds(50));
    if (!done)
      return error{error_code::unavailable, where + ": " + (failed ? failed.message() : std::string("no answer in time"))};
    beast::error_code ignored;
    stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    auto response = parser.release();
    http_response out{static_cast<int>(response.result_int()), std::move(response.body()), "", ""};
    if (auto found = response.find(http::field::content_type); found != response.end())
      out.content_type = std::string(found->value());
    if (auto found = response.find(http::field::allow); found != response.end()) out.allow = std::string(found->value());
    return out;
  } catch (const std::exception& e) {
    return error{error_code::unavailable, where + ": " + e.what()};
  }
}

}  // namespace infermesh
