// Clock: where time comes from. Algorithms take time from their input or from
// a Clock, so that detection and incident logic can be replayed faster than
// real time with a SimulatedClock.
#pragma once

#include <atomic>

#include "core/sample.h"

namespace vigil {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimestampMs NowMs() const = 0;
};

// Wall-clock time (std::chrono::system_clock).
class RealClock final : public Clock {
 public:
  TimestampMs NowMs() const override;
};

// Time that moves only when told. Thread-safe.
class SimulatedClock final : public Clock {
 public:
  explicit SimulatedClock(TimestampMs start_ms = 0) : now_(start_ms) {}
  TimestampMs NowMs() const override { return now_.load(std::memory_order_acquire); }
  void Set(TimestampMs ms) { now_.store(ms, std::memory_order_release); }
  void Advance(TimestampMs delta_ms) { now_.fetch_add(delta_ms, std::memory_order_acq_rel); }

 private:
  std::atomic<TimestampMs> now_;
};

}  // namespace vigil
