#include "detect/counter_rate.h"

#include <algorithm>
#include <cmath>

#include "core/byte_codec.h"
#include "detect/snapshot_fields.h"

namespace vigil {

namespace {

using snapshot_fields::GetDouble;
using snapshot_fields::GetI64;
using snapshot_fields::GetU32;
using snapshot_fields::GetU64;
using snapshot_fields::GetU8;
constexpr uint8_t kCounterRateVersion = 1;
constexpr uint8_t kTrackerVersion = 1;
// Counts saturate here; only their proportions matter after min_points.
constexpr int kMaxCountedPoints = 1 << 30;

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

bool LooksLikeCounter(std::string_view name) {
  return EndsWith(name, "_total") || EndsWith(name, "_count") || EndsWith(name, "_sum") ||
         EndsWith(name, "_bucket");
}

std::optional<double> CounterRate::Update(TimestampMs ts, double value) {
  if (!std::isfinite(value)) {
    Reset();
    return std::nullopt;
  }
  if (!has_prev_) {
    has_prev_ = true;
    prev_ts_ = ts;
    prev_value_ = value;
    return std::nullopt;
  }
  if (ts <= prev_ts_) return std::nullopt;
  double increase = value >= prev_value_ ? value - prev_value_ : value;
  double seconds = static_cast<double>(ts - prev_ts_) / 1000.0;
  prev_ts_ = ts;
  prev_value_ = value;
  return increase / seconds;
}

void CounterRate::Reset() {
  has_prev_ = false;
  prev_ts_ = 0;
  prev_value_ = 0;
}

void CounterRate::AppendTo(std::string* out) const {
  bytes::PutU8(out, kCounterRateVersion);
  bytes::PutU8(out, has_prev_ ? 1 : 0);
  bytes::PutFixed64(out, static_cast<uint64_t>(prev_ts_));
  bytes::PutDouble(out, prev_value_);
}

Result<CounterRate> CounterRate::Parse(std::string_view* in) {
  std::string_view cur = *in;
  uint8_t version = 0, has_prev = 0;
  CounterRate r;
  Status s = GetU8(&cur, &version, "counter rate version");
  if (!s.ok()) return s;
  if (version != kCounterRateVersion) {
    return Status::Corruption("counter rate snapshot has version " + std::to_string(version) + ", expected " +
                              std::to_string(kCounterRateVersion));
  }
  if (!(s = GetU8(&cur, &has_prev, "counter rate flag")).ok()) return s;
  if (!(s = GetI64(&cur, &r.prev_ts_, "counter rate timestamp")).ok()) return s;
  if (!(s = GetDouble(&cur, &r.prev_value_, "counter rate value")).ok()) return s;
  if (has_prev > 1) return Status::Corruption("counter rate snapshot has a bad flag byte");
  r.has_prev_ = has_prev == 1;
  *in = cur;
  return r;
}

const char* SeriesKindName(SeriesKind kind) {
  switch (kind) {
    case SeriesKind::kUndecided: return "undecided";
    case SeriesKind::kCounter: return "counter";
    case SeriesKind::kGauge: return "gauge";
  }
  return "unknown";
}

SeriesKind MonotonicityTracker::Observe(double value) {
  if (!std::isfinite(value) || kind_ == SeriesKind::kGauge) return kind_;
  if (value < 0) {
    kind_ = SeriesKind::kGauge;
    return kind_;
  }
  if (points_ > 0) {
    if (value > prev_) {
      if (increases_ < kMaxCountedPoints) ++increases_;
    } else if (value < prev_) {
      if (value <= cfg_.reset_ratio * prev_) {
        if (resets_ < kMaxCountedPoints) ++resets_;
      } else {
        kind_ = SeriesKind::kGauge;
        return kind_;
      }
    }
  }
  prev_ = value;
  if (points_ < kMaxCountedPoints) ++points_;
  if (kind_ == SeriesKind::kUndecided && points_ >= cfg_.min_points && increases_ >= cfg_.min_increases) {
    int steps = points_ - 1;
    double allowed = std::max(1.0, cfg_.max_reset_fraction * steps);
    if (resets_ <= allowed) kind_ = SeriesKind::kCounter;
  }
  return kind_;
}

void MonotonicityTracker::AppendTo(std::string* out) const {
  bytes::PutU8(out, kTrackerVersion);
  bytes::PutU8(out, static_cast<uint8_t>(kind_));
  bytes::PutFixed32(out, static_cast<uint32_t>(points_));
  bytes::PutFixed32(out, static_cast<uint32_t>(increases_));
  bytes::PutFixed32(out, static_cast<uint32_t>(resets_));
  bytes::PutDouble(out, prev_);
}

Result<MonotonicityTracker> MonotonicityTracker::Parse(std::string_view* in, MonotonicityConfig cfg) {
  std::string_view cur = *in;
  uint8_t version = 0, kind = 0;
  uint32_t points = 0, increases = 0, resets = 0;
  MonotonicityTracker t(cfg);
  Status s = GetU8(&cur, &version, "monotonicity version");
  if (!s.ok()) return s;
  if (version != kTrackerVersion) {
    return Status::Corruption("monotonicity snapshot has version " + std::to_string(version) + ", expected " +
                              std::to_string(kTrackerVersion));
  }
  if (!(s = GetU8(&cur, &kind, "monotonicity kind")).ok()) return s;
  if (!(s = GetU32(&cur, &points, "monotonicity points")).ok()) return s;
  if (!(s = GetU32(&cur, &increases, "monotonicity increases")).ok()) return s;
  if (!(s = GetU32(&cur, &resets, "monotonicity resets")).ok()) return s;
  if (!(s = GetDouble(&cur, &t.prev_, "monotonicity previous value")).ok()) return s;
  if (kind > static_cast<uint8_t>(SeriesKind::kGauge)) {
    return Status::Corruption("monotonicity snapshot has an unknown kind " + std::to_string(kind));
  }
  if (points > static_cast<uint32_t>(kMaxCountedPoints) || increases > points || resets > points) {
    return Status::Corruption("monotonicity snapshot has inconsistent counts");
  }
  t.kind_ = static_cast<SeriesKind>(kind);
  t.points_ = static_cast<int>(points);
  t.increases_ = static_cast<int>(increases);
  t.resets_ = static_cast<int>(resets);
  *in = cur;
  return t;
}

}  // namespace vigil
