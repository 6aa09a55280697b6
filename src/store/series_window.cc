#include "store/series_window.h"

#include <algorithm>

#include "core/byte_codec.h"

namespace vigil {

namespace {
constexpr uint8_t kWindowFormatVersion = 1;
constexpr size_t kInitialSlots = 8;
}  // namespace

SeriesWindow::SeriesWindow(size_t capacity)
    : capacity_(std::clamp<size_t>(capacity, 1, kMaxCapacity)) {}

bool SeriesWindow::Append(Sample s) {
  if (size_ > 0 && s.ts_ms <= newest_ts_) return false;
  newest_ts_ = s.ts_ms;
  if (size_ < capacity_) {
    // Growing phase: the ring has not wrapped, so buf_ is in time order and
    // a plain push_back keeps it so. Reserve explicitly so that the vector
    // never holds more than capacity_ slots.
    if (buf_.size() == buf_.capacity()) {
      buf_.reserve(std::min(capacity_, std::max(kInitialSlots, 2 * buf_.capacity())));
    }
    buf_.push_back(s);
    ++size_;
    return true;
  }
  buf_[head_] = s;
  head_ = head_ + 1 == capacity_ ? 0 : head_ + 1;
  return true;
}

size_t SeriesWindow::LowerBound(TimestampMs t) const {
  size_t lo = 0, hi = size_;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (at(mid).ts_ms < t) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

std::vector<Sample> SeriesWindow::Range(TimestampMs from, TimestampMs to) const {
  std::vector<Sample> out;
  if (from > to || size_ == 0) return out;
  // Both ends by binary search: a narrow range over a full window costs
  // O(log n + k).
  size_t begin = LowerBound(from);
  size_t end = to == INT64_MAX ? size_ : LowerBound(to + 1);
  out.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) out.push_back(at(i));
  return out;
}

void SeriesWindow::Clear() {
  std::vector<Sample>().swap(buf_);
  head_ = 0;
  size_ = 0;
  newest_ts_ = 0;
}

void SeriesWindow::AppendTo(std::string* out) const {
  bytes::PutU8(out, kWindowFormatVersion);
  bytes::PutVarint64(out, capacity_);
  bytes::PutVarint64(out, size_);
  uint64_t prev = 0;
  for (size_t i = 0; i < size_; ++i) {
    // Unsigned arithmetic: the first delta is the absolute time (as its bit
    // pattern) and later ones are positive, so this never overflows.
    uint64_t ts = static_cast<uint64_t>(at(i).ts_ms);
    bytes::PutVarint64(out, ts - prev);
    prev = ts;
  }
  for (size_t i = 0; i < size_; ++i) bytes::PutDouble(out, at(i).value);
}

Result<SeriesWindow> SeriesWindow::Parse(std::string_view* in) {
  std::string_view p = *in;
  uint8_t version;
  if (!bytes::GetU8(&p, &version) || version != kWindowFormatVersion) {
    return Status::Corruption("series window: missing or unknown format version");
  }
  uint64_t capacity, count;
  if (!bytes::GetVarint64(&p, &capacity) || !bytes::GetVarint64(&p, &count)) {
    return Status::Corruption("series window: truncated header");
  }
  if (capacity == 0 || capacity > kMaxCapacity) {
    return Status::Corruption("series window: capacity " + std::to_string(capacity) + " out of range");
  }
  if (count > capacity) {
    return Status::Corruption("series window: " + std::to_string(count) + " samples exceed capacity " +
                              std::to_string(capacity));
  }
  // Every sample takes at least 1 byte of time and 8 of value.
  if (count > p.size() / 9) return Status::Corruption("series window: truncated samples");
  SeriesWindow w(capacity);
  w.buf_.reserve(count);
  uint64_t prev = 0;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t delta;
    if (!bytes::GetVarint64(&p, &delta)) return Status::Corruption("series window: truncated timestamps");
    TimestampMs ts = static_cast<TimestampMs>(prev + delta);
    if (i > 0 && (delta == 0 || ts <= static_cast<TimestampMs>(prev))) {
      return Status::Corruption("series window: timestamps not increasing at sample " + std::to_string(i));
    }
    w.buf_.push_back(Sample{ts, 0});
    prev = static_cast<uint64_t>(ts);
  }
  for (uint64_t i = 0; i < count; ++i) {
    if (!bytes::GetDouble(&p, &w.buf_[i].value)) return Status::Corruption("series window: truncated values");
  }
  w.size_ = count;
  if (count > 0) w.newest_ts_ = w.buf_[count - 1].ts_ms;
  *in = p;
  return w;
}

}  // namespace vigil
