// WindowedCallStats: call count, error count and a latency sketch over a
// sliding window of fixed slots (a ring; a slot is reset when time moves
// past it). Shared by the dependency graph (per node and edge) and the
// per-operation baselines.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "traces/latency_sketch.h"

namespace vigil::traces {

class WindowedCallStats {
 public:
  struct Slot {
    int64_t index = -1;  // slot number (time / slot_us); -1 unused
    uint64_t calls = 0, errors = 0;
    LatencySketch latency;
  };

  WindowedCallStats(int64_t slot_us, int slots) : slot_us_(slot_us), ring_(static_cast<size_t>(slots)) {}

  // Records a call at time `t_us` unless it is older than the ring.
  // Returns false for a call too old to keep.
  bool Add(int64_t t_us, int64_t duration_us, bool error, int64_t newest_us) {
    Slot* s = SlotFor(t_us, newest_us);
    if (s == nullptr) return false;
    ++s->calls;
    if (error) ++s->errors;
    s->latency.Add(duration_us);
    if (first_us_ == 0 || t_us < first_us_) first_us_ = t_us;
    return true;
  }

  // Records a batch of calls summarised by their sketch, at time `t_us`.
  bool AddSummary(int64_t t_us, const LatencySketch& latency, uint64_t calls, uint64_t errors, int64_t newest_us) {
    Slot* s = SlotFor(t_us, newest_us);
    if (s == nullptr) return false;
    s->calls += calls;
    s->errors += errors;
    s->latency.Merge(latency);
    if (first_us_ == 0 || t_us < first_us_) first_us_ = t_us;
    return true;
  }

  // Sums the slots within (now_us - window_us, now_us].
  void Sum(int64_t now_us, int64_t window_us, uint64_t* calls, uint64_t* errors, LatencySketch* latency) const {
    const int64_t hi = now_us / slot_us_;
    const int64_t lo = (now_us - window_us) / slot_us_;
    for (const Slot& s : ring_) {
      if (s.index < 0 || s.index <= lo || s.index > hi) continue;
      *calls += s.calls;
      *errors += s.errors;
      if (latency) latency->Merge(s.latency);
    }
  }
  // Newest slot index written (-1 none): lets owners drop idle entries.
  int64_t newest_slot() const {
    int64_t n = -1;
    for (const Slot& s : ring_) n = std::max(n, s.index);
    return n;
  }
  int64_t first_us() const { return first_us_; }
  int64_t slot_us() const { return slot_us_; }
  size_t bytes() const {
    size_t b = sizeof(*this) + ring_.capacity() * sizeof(Slot);
    for (const Slot& s : ring_) b += s.latency.bytes() - sizeof(LatencySketch);
    return b;
  }

 private:
  Slot* SlotFor(int64_t t_us, int64_t newest_us) {
    if (t_us < 0) return nullptr;
    const int64_t idx = t_us / slot_us_;
    const int64_t newest = newest_us / slot_us_;
    if (idx <= newest - static_cast<int64_t>(ring_.size())) return nullptr;
    Slot& s = ring_[static_cast<size_t>(idx % static_cast<int64_t>(ring_.size()))];
    if (s.index != idx) {
      if (s.index > idx) return nullptr;  // its place holds newer data
      s.index = idx;
      s.calls = s.errors = 0;
      s.latency.Clear();
    }
    return &s;
  }

  int64_t slot_us_;
  std::vector<Slot> ring_;
  int64_t first_us_ = 0;
};

}  // namespace vigil::traces
