#include "engine/notify_dispatcher.h"

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <system_error>

#include <curl/curl.h>
#include <spdlog/spdlog.h>

namespace vigil {

namespace {

std::once_flag curl_init_once;

// libcurl's global state must be set up once before any thread uses it.
void InitCurlOnce() {
  std::call_once(curl_init_once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// Keeps the start of a receiver's answer for error messages.
size_t KeepHead(char* data, size_t size, size_t nmemb, void* userp) {
  auto* head = static_cast<std::string*>(userp);
  size_t n = size * nmemb;
  if (head->size() < 200) head->append(data, std::min(n, 200 - head->size()));
  return n;
}

int AbortWhenStopping(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(clientp)->load() ? 1 : 0;
}

// "4s", "1.5s", "2m", "1m30s".
std::string ShortDuration(TimestampMs ms) {
  char buf[32];
  if (ms < 10000 && ms % 1000 != 0) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000.0);
    return buf;
  }
  TimestampMs s = (ms + 500) / 1000;
  if (s < 60) return std::to_string(s) + "s";
  return std::to_string(s / 60) + "m" + (s % 60 != 0 ? std::to_string(s % 60) + "s" : "");
}

// The url without credentials or query string: webhook urls often carry
// secrets there, and timelines are shown to everyone.
std::string DisplayUrl(const std::string& url) {
  std::string out = url;
  size_t scheme = out.find("://");
  size_t host_start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t host_end = out.find_first_of("/?#", host_start);
  size_t at = out.rfind('@', host_end == std::string::npos ? out.size() : host_end);
  if (at != std::string::npos && at >= host_start) out.erase(host_start, at + 1 - host_start);
  size_t query = out.find_first_of("?#");
  if (query != std::string::npos) out.erase(query);
  return out;
}

// One line of text (receivers answer with HTML pages, JSON, ...).
std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

NotifyDispatcher::NotifyDispatcher(Store* store, const Clock* clock, RetryPolicy policy,
                                   NotifyDispatcherOptions options)
    : store_(store), clock_(clock), policy_(policy), options_(std::move(options)) {
  InitCurlOnce();
  curl_ = curl_easy_init();
}

NotifyDispatcher::~NotifyDispatcher() {
  Stop();
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

void NotifyDispatcher::Start() {
  if (thread_.joinable()) return;
  stopping_.store(false);
  thread_ = std::thread([this] { Run(); });
}

void NotifyDispatcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void NotifyDispatcher::Run() {
  while (!stopping_.load()) {
    auto handled = DeliverDue();
    if (!handled.ok()) spdlog::error("notifications: {}", handled.status().ToString());
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, options_.poll_interval, [this] { return stopping_.load(); });
  }
}

Result<size_t> NotifyDispatcher::DeliverDue() {
  size_t handled = 0;
  for (;;) {
    auto due = store_->DueNotifications(clock_->NowMs(), std::max(1, options_.batch));
    if (!due.ok()) return due.status().WithContext("reading due notifications");
    for (auto& n : *due) {
      if (stopping_.load()) return handled;
      DeliveryResult r = Post(n.url, n.payload);
      if (stopping_.load() && !r.ok && r.http_status == 0) return handled;  // aborted: not an attempt
      Record(std::move(n), r, clock_->NowMs());
      ++handled;
    }
    // A full batch may mean more are due.
    if (due->size() < static_cast<size_t>(std::max(1, options_.batch))) return handled;
  }
}

DeliveryResult NotifyDispatcher::Post(const std::string& url, const std::string& body) {
  DeliveryResult r;
  CURL* h = static_cast<CURL*>(curl_);
  if (h == nullptr) {
    r.error = "libcurl could not be initialised";
    return r;
  }
  curl_easy_reset(h);
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string head;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, options_.timeout_ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, std::min(options_.timeout_ms, 3000L));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, KeepHead);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &head);
  curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, AbortWhenStopping);
  curl_easy_setopt(h, CURLOPT_XFERINFODATA, &stopping_);
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    long os_errno = 0;
    curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno != 0) {
      // "Couldn't connect to server: Connection refused"
      r.error = std::string(curl_easy_strerror(rc)) + ": " +
                std::error_code(static_cast<int>(os_errno), std::generic_category()).message();
    } else {
      r.error = errbuf[0] != '\0' ? OneLine(errbuf) : curl_easy_strerror(rc);
    }
    return r;
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.http_status);
  r.ok = r.http_status >= 200 && r.http_status < 300;
  if (!r.ok) {
    r.error = "HTTP " + std::to_string(r.http_status);
    std::string answer = OneLine(head);
    if (!answer.empty()) r.error += " (" + answer + ")";
  }
  return r;
}

void NotifyDispatcher::Record(NotificationRecord n, const DeliveryResult& r, TimestampMs now) {
  n.attempts += 1;
  n.updated_ms = now;
  std::string what = n.kind + " " + DisplayUrl(n.url);
  std::string line;
  bool on_timeline = true;
  if (r.ok) {
    n.status = "sent";
    n.last_error.clear();
    sent_.fetch_add(1, std::memory_order_relaxed);
    line = what + " delivered (HTTP " + std::to_string(r.http_status) + ")";
    on_timeline = n.kind != "alertmanager-resend";
  } else {
    n.last_error = r.error;
    if (policy_.Exhausted(n.attempts)) {
      n.status = "failed";
      failed_.fetch_add(1, std::memory_order_relaxed);
      line = what + " failed: " + r.error + "; giving up after " + std::to_string(n.attempts) +
             (n.attempts == 1 ? " attempt" : " attempts");
      spdlog::warn("notification {}: {}", n.id, line);
    } else {
      RetryPolicy p = policy_;
      p.seed ^= static_cast<uint64_t>(n.id);
      TimestampMs delay = p.DelayFor(n.attempts);
      n.next_attempt_ms = now + delay;
      retried_.fetch_add(1, std::memory_order_relaxed);
      line = what + " failed: " + r.error + ", retry in " + ShortDuration(delay);
    }
  }
  Status s = store_->UpdateNotification(n);
  if (!s.ok()) spdlog::error("notification {}: cannot record the outcome ({}): {}", n.id, line, s.ToString());
  if (on_timeline && n.incident_id != 0) {
    TimelineEntry e;
    e.incident_id = n.incident_id;
    e.ts_ms = now;
    e.kind = "notification";
    e.text = line;
    Status ts = store_->AppendTimeline(&e);
    if (!ts.ok()) spdlog::error("notification {}: cannot append to the timeline: {}", n.id, ts.ToString());
  }
}

}  // namespace vigil
