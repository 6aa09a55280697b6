#include "engine/kpi_feedback.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <sstream>

#include "detect/kpi_detector.h"
#include "store/sqlite_store.h"

namespace vigil {

namespace {
constexpr const char* kKey = "feedback/log";
}

void KpiFeedback::Apply(const Entry& e) {
  auto it = sensitivity_.find(e.series);
  sensitivity_[e.series] = KpiDetector::NextSensitivity(it == sensitivity_.end() ? 1.0 : it->second, e.false_alarm);
}

std::string KpiFeedback::Encode() const {
  std::string out;
  char line[96];
  for (const Entry& e : log_) {
    std::snprintf(line, sizeof line, "%" PRId64 " %s %s %" PRId64 "\n", e.anomaly_id, SeriesIdToHex(e.series).c_str(),
                  e.false_alarm ? "false_alarm" : "real", e.ts_ms);
    out += line;
  }
  return out;
}

Status KpiFeedback::Load(Store* store) {
  auto blob = store->GetSnapshot(kKey);
  if (!blob.ok()) return blob.status();
  std::lock_guard<std::mutex> lock(mu_);
  log_.clear();
  sensitivity_.clear();
  if (!blob->has_value()) return Status::Ok();
  std::istringstream in(**blob);
  std::string hex, verdict;
  Entry e{};
  size_t line = 0;
  while (in >> e.anomaly_id >> hex >> verdict >> e.ts_ms) {
    ++line;
    auto id = SeriesIdFromHex(hex);
    if (!id.ok() || (verdict != "false_alarm" && verdict != "real")) {
      return Status::Corruption("feedback log line " + std::to_string(line) + " is malformed");
    }
    e.series = *id;
    e.false_alarm = verdict == "false_alarm";
    log_.push_back(e);
    Apply(e);
  }
  version_.fetch_add(1, std::memory_order_release);
  return Status::Ok();
}

Result<double> KpiFeedback::Record(Store* store, int64_t anomaly_id, SeriesId series, bool false_alarm,
                                   TimestampMs now) {
  std::lock_guard<std::mutex> lock(mu_);
  log_.push_back({anomaly_id, series, false_alarm, now});
  if (log_.size() > kMaxEntries) log_.erase(log_.begin(), log_.begin() + static_cast<ptrdiff_t>(log_.size() - kMaxEntries));
  Apply(log_.back());
  Status s = store->PutSnapshot(kKey, Encode());
  if (!s.ok()) return s;
  version_.fetch_add(1, std::memory_order_release);
  return sensitivity_[series];
}

double KpiFeedback::SensitivityOf(SeriesId series) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sensitivity_.find(series);
  return it == sensitivity_.end() ? 1.0 : it->second;
}

size_t KpiFeedback::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return log_.size();
}

}  // namespace vigil
