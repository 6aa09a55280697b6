#include "server/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

namespace vigil {
namespace {

// Sends raw bytes to 127.0.0.1:port and returns everything read until the
// server closes or `until` appears.
std::string RoundTrip(uint16_t port, const std::string& request, const std::string& until = "") {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "connect failed";
  }
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n = ::send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  ::close(fd);
  return out;
}

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    HttpServerOptions opts;
    opts.port = 0;
    opts.threads = 2;
    opts.max_body_bytes = 1024;
    ASSERT_TRUE(server_
                    .Start(opts,
                           [](const HttpRequest& req, HttpResponse& res) {
                             res.content_type = "text/plain";
                             res.body = req.method + " " + req.path + " q=" + req.QueryParam("x") +
                                        " enc=" + std::string(req.Header("content-encoding")) + " body=" + req.body;
                           })
                    .ok());
  }
  HttpServer server_;
};

TEST_F(HttpServerTest, PlainAndQuery) {
  std::string r = RoundTrip(server_.port(), "GET /a/b?x=hello%20there&y=2 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("200 OK"), std::string::npos) << r;
  EXPECT_NE(r.find("GET /a/b q=hello there"), std::string::npos) << r;
}

TEST_F(HttpServerTest, ChunkedBodyIsReassembled) {
  std::string r = RoundTrip(server_.port(),
                            "POST /api/v1/write HTTP/1.1\r\nHost: t\r\nContent-Encoding: snappy\r\n"
                            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                            "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  EXPECT_NE(r.find("enc=snappy body=hello world"), std::string::npos) << r;
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequests) {
  std::string req = "GET /one HTTP/1.1\r\nHost: t\r\n\r\nGET /two HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
  std::string r = RoundTrip(server_.port(), req);
  EXPECT_NE(r.find("GET /one"), std::string::npos) << r;
  EXPECT_NE(r.find("GET /two"), std::string::npos) << r;
}

TEST_F(HttpServerTest, OversizedBodyGets413) {
  std::string body(5000, 'x');
  std::string r = RoundTrip(server_.port(), "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: 5000\r\n\r\n" + body);
  EXPECT_NE(r.find("413"), std::string::npos) << r.substr(0, 200);
  EXPECT_NE(r.find("exceeds the limit of 1024 bytes"), std::string::npos) << r.substr(0, 300);
}

TEST_F(HttpServerTest, GarbageGets400) {
  std::string r = RoundTrip(server_.port(), "NOT HTTP AT ALL\r\n\r\n");
  EXPECT_NE(r.find("400"), std::string::npos) << r;
}

TEST(HttpServer, BusyPortIsAClearError) {
  HttpServer a, b;
  HttpServerOptions o;
  o.port = 0;
  ASSERT_TRUE(a.Start(o, [](const HttpRequest&, HttpResponse&) {}).ok());
  o.port = a.port();
  Status s = b.Start(o, [](const HttpRequest&, HttpResponse&) {});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot listen on 127.0.0.1:" + std::to_string(a.port())), std::string::npos)
      << s.message();
}

TEST(UrlDecode, Basics) {
  EXPECT_EQ(UrlDecode("a%7Bb%3D%22c%22%7D+d"), "a{b=\"c\"} d");
  EXPECT_EQ(UrlDecode("%zz"), "%zz");
}

}  // namespace
}  // namespace vigil
