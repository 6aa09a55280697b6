// NotifyDispatcher: delivers queued notifications (webhook posts and
// Alertmanager forwards) with retries.
//
// The queue lives in the Store, so accepted notifications survive restarts
// and a receiver that is down for a while still gets them. One thread polls
// the store every poll interval for due records (status "pending",
// next_attempt_ms <= now), POSTs each record's payload to its url
// (Content-Type: application/json, timeout 5 s), and writes the outcome
// back:
//   2xx        status "sent";
//   otherwise  attempts + 1 and last_error set; then either status "failed"
//              once the RetryPolicy is exhausted, or a new next_attempt_ms =
//              now + policy.DelayFor(attempts) (jittered per record: the
//              record id seeds the jitter).
// Each outcome also goes on the incident's timeline as a "notification"
// line, e.g. "webhook http://h/hook delivered (HTTP 200)" or
// "webhook http://h/hook failed: HTTP 500, retry in 4s" (successful periodic
// Alertmanager re-sends, kind "alertmanager-resend", are not put on the
// timeline: they would repeat every resend interval).
//
// Time comes from the Clock (a SimulatedClock makes retries testable); the
// poll interval is real time. Counters are atomics, readable from any
// thread. Start() and Stop() are for one owner thread; Stop() is prompt: it
// aborts a transfer in progress (that attempt is not counted).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "alerts/retry_policy.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/sqlite_store.h"

namespace vigil {

struct NotifyDispatcherOptions {
  std::chrono::milliseconds poll_interval{200};
  long timeout_ms = 5000;     // whole request
  int batch = 100;            // records fetched per poll
  std::string user_agent = "vigil";
};

// What one POST gave: ok for a 2xx answer. `http_status` is 0 when no
// answer came (connection refused, timeout); `error` then says why.
struct DeliveryResult {
  bool ok = false;
  long http_status = 0;
  std::string error;
};

class NotifyDispatcher {
 public:
  NotifyDispatcher(Store* store, const Clock* clock, RetryPolicy policy, NotifyDispatcherOptions options = {});
  ~NotifyDispatcher();
  NotifyDispatcher(const NotifyDispatcher&) = delete;
  NotifyDispatcher& operator=(const NotifyDispatcher&) = delete;

  // Starts the delivery thread (no-op when running).
  void Start();
  // Stops and joins it; returns within about a second even when a receiver
  // hangs. Safe to call twice.
  void Stop();

  // One delivery round on the caller's thread: handles every due record
  // and returns how many it handled, or the store's error. Do not call
  // while the thread runs.
  Result<size_t> DeliverDue();

  uint64_t sent() const { return sent_.load(std::memory_order_relaxed); }
  uint64_t failed() const { return failed_.load(std::memory_order_relaxed); }   // given up
  uint64_t retried() const { return retried_.load(std::memory_order_relaxed); } // attempts that failed and will retry

 private:
  void Run();
  DeliveryResult Post(const std::string& url, const std::string& body);
  void Record(NotificationRecord n, const DeliveryResult& r, TimestampMs now);

  Store* const store_;
  const Clock* const clock_;
  const RetryPolicy policy_;
  const NotifyDispatcherOptions options_;
  void* curl_ = nullptr;  // CURL easy handle, reused so connections stay alive; used by one thread at a time

  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  std::atomic<uint64_t> sent_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> retried_{0};
};

}  // namespace vigil
