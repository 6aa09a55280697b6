#include "server/http_server.h"

#include <atomic>
#include <thread>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace vigil {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

std::string_view HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
      out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::vector<std::string> HttpRequest::QueryParams(std::string_view name) const {
  std::vector<std::string> out;
  std::string_view q = query;
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    size_t eq = part.find('=');
    std::string key = UrlDecode(part.substr(0, eq));
    if (key == name) out.push_back(eq == std::string_view::npos ? std::string() : UrlDecode(part.substr(eq + 1)));
  }
  return out;
}

std::string HttpRequest::QueryParam(std::string_view name) const {
  auto v = QueryParams(name);
  return v.empty() ? std::string() : v.front();
}

namespace {

// One connection: read a request, run the handler, write the response, repeat
// while keep-alive. A 64 KiB read buffer is reserved up front: growing it
// from nothing costs most of the throughput on small POSTs.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpHandler* handler, const HttpServerOptions* opts)
      : stream_(std::move(socket)), handler_(handler), opts_(opts) {
    buffer_.reserve(64 * 1024);
  }

  void Run() {
    asio::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::DoRead, shared_from_this()));
  }

 private:
  void DoRead() {
    parser_.emplace();
    parser_->body_limit(opts_->max_body_bytes);
    parser_->header_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(opts_->idle_timeout_seconds));
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::OnRead, shared_from_this()));
  }

  void OnRead(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout || ec == asio::error::connection_reset ||
        ec == asio::error::eof) {
      return DoClose();
    }
    if (ec) {
      // Malformed HTTP or a body over the limit: answer once and close.
      int status = ec == http::error::body_limit ? 413 : 400;
      std::string msg = ec == http::error::body_limit
                            ? "request body exceeds the limit of " + std::to_string(opts_->max_body_bytes) + " bytes"
                            : "malformed HTTP request: " + ec.message();
      return WriteError(status, msg);
    }
    http::request<http::string_body> req = parser_->release();
    HttpRequest in;
    in.method = std::string(req.method_string());
    std::string_view target(req.target().data(), req.target().size());
    size_t qpos = target.find('?');
    in.path = std::string(target.substr(0, qpos));
    if (qpos != std::string_view::npos) in.query = std::string(target.substr(qpos + 1));
    in.headers.reserve(8);
    for (const auto& f : req) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      in.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    in.body = std::move(req.body());
    keep_alive_ = req.keep_alive();
    version_ = req.version();

    HttpResponse out;
    (*handler_)(in, out);
    Send(std::move(out));
  }

  void WriteError(int status, const std::string& msg) {
    HttpResponse out;
    out.status = status;
    out.body = "{\"error\":\"" + msg + "\"}";
    keep_alive_ = false;
    version_ = 11;
    Send(std::move(out));
  }

  void Send(HttpResponse out) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(out.status), version_);
    res->set(http::field::server, "vigil");
    if (!out.body.empty() || out.status != 204) res->set(http::field::content_type, out.content_type);
    for (auto& [k, v] : out.headers) res->set(k, v);
    res->body() = std::move(out.body);
    res->keep_alive(keep_alive_);
    res->prepare_payload();
    response_ = res;
    http::async_write(stream_, *res, beast::bind_front_handler(&Session::OnWrite, shared_from_this(), res->need_eof()));
  }

  void OnWrite(bool close, beast::error_code ec, std::size_t) {
    response_.reset();
    if (ec || close) return DoClose();
    DoRead();
  }

  void DoClose() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<void> response_;
  const HttpHandler* handler_;
  const HttpServerOptions* opts_;
  bool keep_alive_ = true;
  unsigned version_ = 11;
};

}  // namespace

struct HttpServer::Impl {
  HttpServerOptions opts;
  HttpHandler handler;
  asio::io_context ioc;
  std::optional<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> running{false};
  uint16_t port = 0;

  void DoAccept() {
    acceptor->async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (!running.load()) return;
      if (!ec) {
        beast::error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);
        std::make_shared<Session>(std::move(socket), &handler, &opts)->Run();
      }
      DoAccept();
    });
  }
};

HttpServer::HttpServer() : impl_(std::make_unique<Impl>()) {}
HttpServer::~HttpServer() { Stop(); }

Status HttpServer::Start(const HttpServerOptions& options, HttpHandler handler) {
  impl_->opts = options;
  impl_->handler = std::move(handler);
  beast::error_code ec;
  auto addr = asio::ip::make_address(options.address, ec);
  if (ec) return Status::InvalidArgument("invalid listen address \"" + options.address + "\": " + ec.message());
  tcp::endpoint ep(addr, options.port);
  impl_->acceptor.emplace(impl_->ioc);
  const std::string where = options.address + ":" + std::to_string(options.port);
  impl_->acceptor->open(ep.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(ep, ec);
  if (!ec) impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status::IOError("cannot listen on " + where + ": " + ec.message());
  impl_->port = impl_->acceptor->local_endpoint().port();
  impl_->running = true;
  impl_->DoAccept();
  int n = std::max(1, options.threads);
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  return Status::Ok();
}

uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::Stop() {
  if (!impl_->running.exchange(false)) return;
  asio::post(impl_->ioc, [this] {
    beast::error_code ec;
    impl_->acceptor->close(ec);
  });
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

}  // namespace vigil
