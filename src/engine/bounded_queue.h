// BoundedQueue: a multi-producer, single-consumer queue bounded by weight
// (for example samples, not requests). Producers reserve capacity first, so
// that a request touching several queues can be accepted whole or refused
// whole; a refused reservation is what becomes HTTP 503 at the edge.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <utility>

namespace vigil {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity) {}

  // Reserves `weight` units, or returns false when they do not fit.
  bool TryReserve(size_t weight) {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_ || used_ + weight > capacity_) return false;
    used_ += weight;
    return true;
  }
  // Returns units reserved but not pushed.
  void Release(size_t weight) {
    std::lock_guard<std::mutex> lock(mu_);
    used_ -= weight;
  }
  // Pushes an item whose weight was reserved with TryReserve.
  void PushReserved(T item, size_t weight) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.emplace_back(std::move(item), weight);
    }
    cv_.notify_one();
  }
  // Blocks until the weight fits (or the queue closes: returns false).
  bool PushBlocking(T item, size_t weight) {
    std::unique_lock<std::mutex> lock(mu_);
    space_cv_.wait(lock, [&] { return closed_ || used_ + weight <= capacity_ || used_ == 0; });
    if (closed_) return false;
    used_ += weight;
    items_.emplace_back(std::move(item), weight);
    lock.unlock();
    cv_.notify_one();
    return true;
  }
  // Pops one item, waiting up to `timeout`. The item's weight is released.
  bool Pop(T* out, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return closed_ || !items_.empty(); })) return false;
    if (items_.empty()) return false;
    *out = std::move(items_.front().first);
    used_ -= items_.front().second;
    items_.pop_front();
    lock.unlock();
    space_cv_.notify_all();
    return true;
  }
  // Wakes every waiter; later reservations fail. Items already queued can still be popped.
  void Close() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      closed_ = true;
    }
    cv_.notify_all();
    space_cv_.notify_all();
  }

  size_t used() const {
    std::lock_guard<std::mutex> lock(mu_);
    return used_;
  }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable space_cv_;
  std::deque<std::pair<T, size_t>> items_;
  size_t used_ = 0;
  bool closed_ = false;
};

}  // namespace vigil
