#include "support/http_client.hpp"

#include "runtime/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <cstdio>

namespace infermesh::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

std::optional<http_reply> http_request(int port, const std::string& method, const std::string& target,
                                       std::chrono::milliseconds timeout) {
  auto got = infermesh::http_request("127.0.0.1", port, method, target, timeout);
  if (!got) return std::nullopt;
  return http_reply{got->status, std::move(got->body), std::move(got->content_type), std::move(got->allow)};
}

int raw_http_status(int port, const std::string& bytes, std::chrono::milliseconds timeout) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  int status = 0;
  stream.expires_after(timeout);
  stream.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)),
                       [&](beast::error_code ec) {
                         if (ec) return;
                         asio::async_write(stream, asio::buffer(bytes), [&](beast::error_code, std::size_t) {
                           // Even a write cut short (the server stopped reading) may have an answer waiting.
                           bhttp::async_read(stream, buffer, res, [&](beast::error_code ec, std::size_t) {
                             if (!ec) status = static_cast<int>(res.result_int());
                           });
                         });
                       });
  io.run();
  return status;
}

std::string url_encoded(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace infermesh::test
