// HttpClient: a keep-alive libcurl client for the simulator and the e2e
// bench, which talk to vigil (or any compatible receiver) like any other
// source. One client per thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace vigil {

struct HttpReply {
  long status = 0;
  std::string body;
};

class HttpClient {
 public:
  // `base` like "http://127.0.0.1:8080" (no trailing slash needed).
  explicit HttpClient(std::string base);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs and returns the reply. 429 and 503 are retried (after Retry-After
  // when given, else a growing pause) up to `max_retries` times; the last
  // reply is returned. Transport errors are retried 4 times over ~6 s, then
  // IOError.
  Result<HttpReply> Post(const std::string& path, const std::string& body, const std::vector<std::string>& headers,
                         int max_retries = 50);
  Result<HttpReply> Get(const std::string& path);
  // 429/503 answers seen (each retried).
  long backoffs() const { return backoffs_; }

 private:
  Result<HttpReply> Perform(const std::string& path, const std::string* body, const std::vector<std::string>& headers,
                            long* retry_after_s);
  std::string base_;
  void* curl_;
  long backoffs_ = 0;
};

}  // namespace vigil
