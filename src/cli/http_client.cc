#include "cli/http_client.h"

#include <curl/curl.h>

#include <chrono>
#include <thread>

namespace vigil {

namespace {
size_t Collect(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}
size_t Header(char* data, size_t size, size_t n, void* out) {
  std::string line(data, size * n);
  if (line.size() > 12 && (line.rfind("Retry-After:", 0) == 0 || line.rfind("retry-after:", 0) == 0)) {
    *static_cast<long*>(out) = std::strtol(line.c_str() + 12, nullptr, 10);
  }
  return size * n;
}
}  // namespace

HttpClient::HttpClient(std::string base) : base_(std::move(base)), curl_(curl_easy_init()) {
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
}

HttpClient::~HttpClient() { curl_easy_cleanup(static_cast<CURL*>(curl_)); }

Result<HttpReply> HttpClient::Perform(const std::string& path, const std::string* body,
                                      const std::vector<std::string>& headers, long* retry_after_s) {
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Status::Internal("curl_easy_init failed");
  curl_easy_reset(c);  // keeps the connection cache: keep-alive survives
  HttpReply reply;
  const std::string url = base_ + path;
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &reply.body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, Header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, retry_after_s);
  struct curl_slist* list = nullptr;
  for (const auto& h : headers) list = curl_slist_append(list, h.c_str());
  list = curl_slist_append(list, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, list);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  CURLcode rc = curl_easy_perform(c);
  curl_slist_free_all(list);
  if (rc != CURLE_OK) return Status::IOError(url + ": " + curl_easy_strerror(rc));
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  return reply;
}

Result<HttpReply> HttpClient::Post(const std::string& path, const std::string& body,
                                   const std::vector<std::string>& headers, int max_retries) {
  int transport_failures = 0;
  for (int attempt = 0;; ++attempt) {
    long retry_after = -1;
    auto r = Perform(path, &body, headers, &retry_after);
    if (!r.ok()) {
      // a receiver restarting: try a few times over about three seconds
      if (++transport_failures > 4) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 << transport_failures));
      continue;
    }
    if ((r->status != 429 && r->status != 503) || attempt >= max_retries) return r;
    ++backoffs_;
    // the receiver asked for backpressure: wait as told, else 50 ms growing
    int ms = retry_after > 0 ? static_cast<int>(std::min(retry_after, 5L) * 1000) : std::min(1000, 50 * (attempt + 1));
    std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  }
}

Result<HttpReply> HttpClient::Get(const std::string& path) {
  long ignored = -1;
  return Perform(path, nullptr, {}, &ignored);
}

}  // namespace vigil
