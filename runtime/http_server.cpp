#include "runtime/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <atomic>
#include <charconv>
#include <set>
#include <thread>

namespace infermesh {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

outcome<listen_address> parse_listen_address(const std::string& text) {
  const auto bad = [&](const std::string& why) {
    return error{error_code::bad_request, "'" + text + "' is not host:port (" + why +
                                              "; e.g. 127.0.0.1:9464, [::1]:9464 or 0.0.0.0:9464)"};
  };
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) return bad("no port");
  std::string host = text.substr(0, colon);
  const std::string port_text = text.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  else if (host.find(':') != std::string::npos) return bad("an IPv6 address goes in brackets");
  unsigned port = 0;
  const auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || port < 1 || port > 65535)
    return bad("the port must be a number from 1 to 65535");
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code parse_error;
  asio::ip::make_address(host, parse_error);
  if (parse_error) return bad("'" + host + "' is not an IP address");
  return listen_address{host, static_cast<std::uint16_t>(port)};
}

namespace {

class session;

}  // namespace

struct http_server::impl {
  http_options options;
  http_handler handler;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::set<std::shared_ptr<session>> sessions;  // open connections; server thread only
  asio::steady_timer retry{io};                 // a failed accept is tried again after a pause
  std::atomic<bool> stopped{false};

  void accept();
  /// Closes the kept-alive connection idle the longest; false when none is idle.
  bool close_an_idle_session();
};

namespace {

/// One connection: read a request (bounded in size and time), answer it, keep the connection if asked.
/// Runs on the server's thread only.
class session : public std::enable_shared_from_this<session> {
 public:
  session(http_server::impl& server, tcp::socket socket) : server_(server), stream_(std::move(socket)) {}

  void start() { read(false); }
  /// Waiting for the next request on a kept-alive connection since `idle_since_` (nullopt: busy).
  const std::optional<std::chrono::steady_clock::time_point>& idle_since() const { return idle_since_; }
  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  /// `kept`: the next request of a kept-alive connection (bounded by the idle timeout, then the read timeout).
  void read(bool kept) {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.options.max_request_bytes));
    parser_->body_limit(server_.options.max_request_bytes);
    if (kept) idle_since_ = std::chrono::steady_clock::now();
    stream_.expires_after(kept ? server_.options.idle_timeout + server_.options.read_timeout : server_.options.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
    if (kept) {  // a kept connection that sends nothing within the idle timeout is closed
      idle_timer_.expires_after(server_.options.idle_timeout);
      idle_timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
        auto self = weak.lock();
        if (!ec && self && self->idle_since_ && self->parser_ && !self->parser_->got_some()) self->close();
      });
    }
  }

  void on_read(beast::error_code ec) {
    idle_since_.reset();
    idle_timer_.cancel();
    if (ec == bhttp::error::header_limit) return answer_and_close(431, "request header fields too large\n");
    if (ec == bhttp::error::body_limit) return answer_and_close(413, "request too large\n");
    if (ec == bhttp::error::bad_target || ec == bhttp::error::bad_method || ec == bhttp::error::bad_version ||
        ec == bhttp::error::bad_field || ec == bhttp::error::bad_value || ec == bhttp::error::bad_line_ending)
      return answer_and_close(400, "bad request\n");
    if (ec) return finish();  // end of stream, read timeout, reset: nothing to answer
    const auto& req = parser_->get();
    http_answer answer;
    try {
      answer = server_.handler({std::string(req.method_string()), std::string(req.target())});
    } catch (const std::exception& e) {
      answer = {500, "text/plain; charset=utf-8", std::string("internal error: ") + e.what() + "\n", {}};
    }
    write(std::move(answer), req.keep_alive(), req.version());
  }

  void answer_and_close(int status, std::string body) {
    write({status, "text/plain; charset=utf-8", std::move(body), {}}, false, 11);
  }

  void write(http_answer answer, bool keep_alive, unsigned version) {
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(answer.status), version);
    res->set(bhttp::field::server, "infermesh");
    res->set(bhttp::field::content_type, answer.content_type);
    for (const auto& [name, value] : answer.headers) res->set(name, value);
    res->keep_alive(keep_alive);
    res->body() = std::move(answer.body);
    res->prepare_payload();
    stream_.expires_after(server_.options.read_timeout);  // a client that does not read its answer is let go too
    bhttp::async_write(stream_, *res, [self = shared_from_this(), res, keep_alive](beast::error_code ec, std::size_t) {
      if (ec || !keep_alive) return self->finish();
      self->read(true);
    });
  }

  void finish() {
    idle_timer_.cancel();
    close();
    server_.sessions.erase(shared_from_this());
  }

  http_server::impl& server_;
  beast::tcp_stream stream_;
  asio::steady_timer idle_timer_{stream_.get_executor()};
  std::optional<std::chrono::steady_clock::time_point> idle_since_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
};

}  // namespace

bool http_server::impl::close_an_idle_session() {
  std::shared_ptr<session> oldest;
  for (const auto& s : sessions)
    if (s->idle_since() && (!oldest || *s->idle_since() < *oldest->idle_since())) oldest = s;
  if (!oldest) return false;
  oldest->close();  // its pending read ends with an error and removes it
  return true;
}

void http_server::impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (stopped || !acceptor.is_open()) return;
    if (ec) {  // too many open files, ...: must not end the server, nor spin
      retry.expires_after(std::chrono::milliseconds(100));
      retry.async_wait([this](beast::error_code e) {
        if (!e && !stopped) accept();
      });
      return;
    }
    if (sessions.size() >= options.max_connections && !close_an_idle_session()) {
      beast::error_code ignored;  // over the bound with none idle: closed at once
      socket.close(ignored);
    } else {
      auto s = std::make_shared<session>(*this, std::move(socket));
      sessions.insert(s);
      s->start();
    }
    accept();
  });
}

outcome<std::unique_ptr<http_server>> http_server::start(const http_options& options, http_handler handler) {
  auto address = parse_listen_address(options.listen);
  if (!address) return error{error_code::bad_request, "http.listen: " + address.err().message};
  auto p = std::make_unique<impl>();
  p->options = options;
  p->handler = std::move(handler);
  const tcp::endpoint endpoint{asio::ip::make_address(address->host), address->port};
  beast::error_code ec;
  p->acceptor.open(endpoint.protocol(), ec);
  if (!ec) p->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) p->acceptor.bind(endpoint, ec);
  if (!ec) p->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return error{error_code::bad_request, "http.listen: cannot listen on " + options.listen + ": " + ec.message()};
  p->accept();
  p->thread = std::thread([server = p.get()] { server->io.run(); });
  return std::unique_ptr<http_server>(new http_server(std::move(p)));
}

http_server::http_server(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

http_server::~http_server() { stop(); }

std::uint16_t http_server::port() const {
  beast::error_code ec;
  const auto endpoint = impl_->acceptor.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void http_server::stop() {
  if (impl_->stopped.exchange(true)) return;
  // On the server's thread: the acceptor and the sessions belong to it.
  asio::post(impl_->io, [p = impl_.get()] {
    beast::error_code ignored;
    p->acceptor.close(ignored);
    std::set<std::shared_ptr<session>> open;
    open.swap(p->sessions);
    for (const auto& s : open) s->close();
  });
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace infermesh
