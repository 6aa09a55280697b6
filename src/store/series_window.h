// SeriesWindow: the most recent samples of one series, in time order, in a
// fixed-capacity ring buffer. Detectors read their history from it; snapshots
// save and restore it so that a restart does not relearn a series.
//
// Memory: nothing is allocated until the first Append; the storage then grows
// by doubling up to `capacity` samples (16 bytes each), so a million series
// that live for a few points do not each pay for a full window.
//
// Not thread-safe: a window belongs to one detector shard, which owns it and
// calls every method from its own thread. Distinct windows may be used from
// distinct threads freely.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/prefetch.h"
#include "core/sample.h"
#include "core/status.h"

namespace vigil {

class SeriesWindow {
 public:
  // The largest capacity Parse() accepts, so a corrupt snapshot cannot ask
  // for an absurd allocation. Also the largest a constructor will honour.
  static constexpr size_t kMaxCapacity = size_t{1} << 24;

  // `capacity` is clamped to [1, kMaxCapacity].
  explicit SeriesWindow(size_t capacity);

  // Adds `s` as the newest sample, evicting the oldest when full. Samples must
  // arrive in strictly increasing time: one whose ts_ms is not after back()'s
  // is dropped (a resent or out-of-order point) and false is returned.
  bool Append(Sample s);

  // Samples with from <= ts_ms <= to, oldest first. Empty when from > to.
  std::vector<Sample> Range(TimestampMs from, TimestampMs to) const;

  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  // The i-th sample, oldest first. Requires i < size().
  const Sample& at(size_t i) const { return buf_[Physical(i)]; }
  // Asks the CPU to start loading the slot the next Append writes (see
  // RobustDetector::Prefetch). The time-order check reads a copy of the
  // newest timestamp kept in the object, not the ring: the ring's newest
  // sample sits in cold memory, and waiting for it was a tenth of the
  // daemon's CPU on make bench.
  void Prefetch() const {
    if (size_ == capacity_) PrefetchLine(&buf_[head_]);
  }
  // The newest sample. Requires !empty().
  const Sample& back() const { return at(size_ - 1); }
  // Forgets every sample and releases the storage; capacity is kept.
  void Clear();
  // Heap and inline bytes this window holds now, for memory accounting.
  size_t MemoryBytes() const { return sizeof(*this) + buf_.capacity() * sizeof(Sample); }

  // Appends a self-delimiting binary form to *out: version byte, capacity,
  // count, then timestamps (first absolute, then deltas, as varints) and
  // values (IEEE-754 bits, little-endian). Several windows may be appended to
  // one string and parsed back in order.
  void AppendTo(std::string* out) const;
  // Reads one window written by AppendTo from the front of *in and advances
  // *in past it. On failure returns Corruption saying what was wrong and
  // leaves *in unchanged.
  static Result<SeriesWindow> Parse(std::string_view* in);

 private:
  size_t Physical(size_t i) const {
    size_t p = head_ + i;
    return p < buf_.size() ? p : p - buf_.size();
  }
  // First logical index whose ts_ms >= t.
  size_t LowerBound(TimestampMs t) const;

  size_t capacity_;
  // While size_ < capacity_ the samples sit in buf_[0, size_) and head_ is 0;
  // once buf_ holds capacity_ samples it is a ring whose oldest is buf_[head_].
  std::vector<Sample> buf_;
  size_t head_ = 0;
  size_t size_ = 0;
  TimestampMs newest_ts_ = 0;  // back().ts_ms when size_ > 0
};

}  // namespace vigil
