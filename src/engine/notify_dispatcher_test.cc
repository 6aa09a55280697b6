#include "engine/notify_dispatcher.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "store/sqlite_store.h"

namespace vigil {
namespace {

using namespace std::chrono_literals;

// A tiny HTTP/1.1 receiver on a loopback port: answers each request with the
// next scripted status (the last one repeats) and closes the connection.
// Optionally it accepts and then never answers (a hanging receiver).
class LoopbackReceiver {
 public:
  explicit LoopbackReceiver(std::vector<int> statuses, bool hang = false)
      : statuses_(std::move(statuses)), hang_(hang) {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 16);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackReceiver() {
    stop_ = true;
    thread_.join();
    close(fd_);
  }
  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  size_t requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.size();
  }
  std::string request(size_t i) {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_.at(i);
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      std::string req = ReadRequest(c);
      size_t n;
      {
        std::lock_guard<std::mutex> lock(mu_);
        requests_.push_back(req);
        n = requests_.size();
      }
      if (hang_) {
        while (!stop_) std::this_thread::sleep_for(10ms);
        close(c);
        continue;
      }
      int status = statuses_[std::min(n, statuses_.size()) - 1];
      std::string body = status == 200 ? "ok" : "receiver is down";
      std::string resp = "HTTP/1.1 " + std::to_string(status) + (status == 200 ? " OK" : " Error") +
                         "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
      (void)!write(c, resp.data(), resp.size());
      close(c);
    }
  }
  static std::string ReadRequest(int c) {
    std::string req;
    char buf[4096];
    size_t want = std::string::npos;
    while (want == std::string::npos || req.size() < want) {
      pollfd p{c, POLLIN, 0};
      if (poll(&p, 1, 2000) <= 0) break;
      ssize_t got = read(c, buf, sizeof buf);
      if (got <= 0) break;
      req.append(buf, static_cast<size_t>(got));
      size_t end = req.find("\r\n\r\n");
      if (want == std::string::npos && end != std::string::npos) {
        size_t cl = req.find("Content-Length: ");
        size_t body = cl == std::string::npos ? 0 : std::strtoul(req.c_str() + cl + 16, nullptr, 10);
        want = end + 4 + body;
      }
    }
    return req;
  }

  std::vector<int> statuses_;
  bool hang_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

class NotifyDispatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/vigil-notify-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = Store::Open(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    Incident inc;
    inc.entity = "instance=\"h:9100\",job=\"node\"";
    inc.title = "test incident";
    inc.opened_ms = inc.updated_ms = clock_.NowMs();
    ASSERT_TRUE(store_->UpsertIncident(&inc).ok());
    incident_id_ = inc.id;
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  NotificationRecord Enqueue(const std::string& url, const std::string& kind = "webhook") {
    NotificationRecord n;
    n.incident_id = incident_id_;
    n.receiver = "ops";
    n.kind = kind;
    n.url = url;
    n.payload = R"({"version":"4","status":"firing"})";
    n.status = "pending";
    n.next_attempt_ms = clock_.NowMs();
    n.created_ms = n.updated_ms = clock_.NowMs();
    EXPECT_TRUE(store_->EnqueueNotification(&n).ok());
    return n;
  }
  NotificationRecord Reload(int64_t id) {
    auto all = store_->NotificationsFor(incident_id_);
    EXPECT_TRUE(all.ok());
    for (const auto& n : *all) {
      if (n.id == id) return n;
    }
    ADD_FAILURE() << "notification " << id << " not found";
    return {};
  }
  std::vector<TimelineEntry> Notes() {
    auto tl = store_->Timeline(incident_id_);
    EXPECT_TRUE(tl.ok());
    std::vector<TimelineEntry> out;
    for (const auto& e : *tl) {
      if (e.kind == "notification") out.push_back(e);
    }
    return out;
  }
  template <typename Pred>
  static bool WaitFor(Pred pred, std::chrono::milliseconds limit = 5000ms) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred()) return true;
      std::this_thread::sleep_for(5ms);
    }
    return pred();
  }

  SimulatedClock clock_{1'795'334'000'000};
  std::string dir_;
  std::unique_ptr<Store> store_;
  int64_t incident_id_ = 0;
};

TEST_F(NotifyDispatcherTest, RetriesAfterServerErrorThenDelivers) {
  LoopbackReceiver receiver({500, 200});
  NotificationRecord n = Enqueue(receiver.url());
  NotifyDispatcherOptions opts;
  opts.poll_interval = 10ms;
  NotifyDispatcher d(store_.get(), &clock_, RetryPolicy{}, opts);
  d.Start();

  ASSERT_TRUE(WaitFor([&] { return d.retried() == 1; }));
  NotificationRecord after = Reload(n.id);
  EXPECT_EQ(after.status, "pending");
  EXPECT_EQ(after.attempts, 1);
  EXPECT_EQ(after.next_attempt_ms, clock_.NowMs() + 1000);
  EXPECT_EQ(after.last_error, "HTTP 500 (receiver is down)");
  // Not due yet in simulated time: nothing more is sent.
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(receiver.requests(), 1u);

  clock_.Advance(1000);
  ASSERT_TRUE(WaitFor([&] { return d.sent() == 1; }));
  d.Stop();
  after = Reload(n.id);
  EXPECT_EQ(after.status, "sent");
  EXPECT_EQ(after.attempts, 2);
  EXPECT_EQ(after.last_error, "");
  EXPECT_EQ(d.failed(), 0u);
  EXPECT_EQ(d.retried(), 1u);

  ASSERT_EQ(receiver.requests(), 2u);
  std::string req = receiver.request(1);
  EXPECT_EQ(req.rfind("POST /hook HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_NE(req.find("Content-Type: application/json\r\n"), std::string::npos);
  EXPECT_NE(req.find(R"({"version":"4","status":"firing"})"), std::string::npos);

  auto notes = Notes();
  ASSERT_EQ(notes.size(), 2u);
  EXPECT_EQ(notes[0].text, "webhook " + receiver.url() + " failed: HTTP 500 (receiver is down), retry in 1s");
  EXPECT_EQ(notes[1].text, "webhook " + receiver.url() + " delivered (HTTP 200)");
}

TEST_F(NotifyDispatcherTest, GivesUpAfterMaxAttempts) {
  // A port nobody listens on: take one and close it.
  int port;
  {
    LoopbackReceiver gone({200});
    port = std::stoi(gone.url("").substr(std::string("http://127.0.0.1:").size()));
  }
  std::string url = "http://user:secret@127.0.0.1:" + std::to_string(port) + "/hook?token=abc";
  NotificationRecord n = Enqueue(url, "alertmanager");
  RetryPolicy policy;
  policy.max_attempts = 3;
  NotifyDispatcher d(store_.get(), &clock_, policy);
  for (int i = 0; i < 3; ++i) {
    auto handled = d.DeliverDue();
    ASSERT_TRUE(handled.ok()) << handled.status().ToString();
    EXPECT_EQ(*handled, 1u);
    EXPECT_EQ(*d.DeliverDue(), 0u);  // not due again until the delay passed
    clock_.Advance(policy.DelayFor(i + 1));
  }
  NotificationRecord after = Reload(n.id);
  EXPECT_EQ(after.status, "failed");
  EXPECT_EQ(after.attempts, 3);
  EXPECT_NE(after.last_error.find("Connection refused"), std::string::npos) << after.last_error;
  EXPECT_EQ(d.failed(), 1u);
  EXPECT_EQ(d.retried(), 2u);
  EXPECT_EQ(d.sent(), 0u);
  auto notes = Notes();
  ASSERT_EQ(notes.size(), 3u);
  EXPECT_NE(notes[1].text.find(", retry in 2s"), std::string::npos) << notes[1].text;
  EXPECT_NE(notes[2].text.find("giving up after 3 attempts"), std::string::npos) << notes[2].text;
  // Secrets in the url stay off the timeline.
  for (const auto& e : notes) {
    EXPECT_EQ(e.text.find("secret"), std::string::npos) << e.text;
    EXPECT_EQ(e.text.find("token"), std::string::npos) << e.text;
    EXPECT_EQ(e.text.rfind("alertmanager http://127.0.0.1:", 0), 0u) << e.text;
  }
  EXPECT_EQ(*d.DeliverDue(), 0u);
}

TEST_F(NotifyDispatcherTest, PeriodicResendsStayOffTheTimeline) {
  LoopbackReceiver receiver({200});
  Enqueue(receiver.url("/api/v2/alerts"), "alertmanager-resend");
  NotifyDispatcher d(store_.get(), &clock_, RetryPolicy{});
  ASSERT_EQ(*d.DeliverDue(), 1u);
  EXPECT_EQ(d.sent(), 1u);
  EXPECT_TRUE(Notes().empty());
}

TEST_F(NotifyDispatcherTest, StopIsPromptWhileAReceiverHangs) {
  LoopbackReceiver receiver({200}, /*hang=*/true);
  NotificationRecord n = Enqueue(receiver.url());
  NotifyDispatcherOptions opts;
  opts.poll_interval = 10ms;
  NotifyDispatcher d(store_.get(), &clock_, RetryPolicy{}, opts);
  d.Start();
  ASSERT_TRUE(WaitFor([&] { return receiver.requests() == 1; }));
  auto t0 = std::chrono::steady_clock::now();
  d.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
  NotificationRecord after = Reload(n.id);
  EXPECT_EQ(after.status, "pending");  // the interrupted try does not count
  EXPECT_EQ(after.attempts, 0);
  d.Stop();  // twice is fine
}

}  // namespace
}  // namespace vigil
