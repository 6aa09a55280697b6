// HttpServer: a small HTTP/1.1 server for the API and the ingest endpoints.
//
// Keep-alive connections, chunked request bodies, a body size limit, and a
// fixed pool of I/O threads that also run the handler. The handler must be
// thread-safe: it is called concurrently from every I/O thread. Boost.Beast
// stays inside http_server.cc so that this header is cheap to include.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace vigil {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // target without the query string, not decoded
  std::string query;   // raw query string without '?'
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case
  std::string body;    // de-chunked

  // Value of header `name` (lower-case), or "".
  std::string_view Header(std::string_view name) const;
  // Decoded values of query parameter `name`, in order.
  std::vector<std::string> QueryParams(std::string_view name) const;
  // First decoded value of `name`, or "".
  std::string QueryParam(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponse&)>;

struct HttpServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 8080;            // 0 picks a free port (see HttpServer::port())
  int threads = 2;
  size_t max_body_bytes = 64 << 20;
  int idle_timeout_seconds = 120;
};

class HttpServer {
 public:
  HttpServer();
  ~HttpServer();  // stops
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and starts the I/O threads. Fails with a message naming the address
  // when the port cannot be bound.
  Status Start(const HttpServerOptions& options, HttpHandler handler);
  // The bound port (useful when options.port was 0).
  uint16_t port() const;
  // Stops accepting, closes connections and joins the threads. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-decoding for query strings ('+' becomes a space).
std::string UrlDecode(std::string_view s);

}  // namespace vigil
