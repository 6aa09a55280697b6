#include "engine/change_risk_runner.h"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "engine/engine.h"
#include "engine/selector.h"

namespace vigil {

namespace {

std::string Quote(std::string_view v) {
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out + "\"";
}

}  // namespace

ChangeRiskRunner::ChangeRiskRunner(const Engine* engine, ChangeRiskSettings cfg)
    : engine_(engine), cfg_(std::move(cfg)) {}

bool ChangeRiskRunner::IsChange(const Event& e) const {
  return std::find(cfg_.kinds.begin(), cfg_.kinds.end(), e.kind) != cfg_.kinds.end();
}

void ChangeRiskRunner::OnEvents(const std::vector<Event>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& e : events) {
    if (!IsChange(e) || e.id <= 0) continue;
    Tracked t;
    t.entry.event = e;
    t.entry.before_from = e.ts_ms - cfg_.before_ms;
    t.entry.before_to = e.ts_ms - cfg_.gap_ms;
    t.entry.after_from = e.ts_ms + cfg_.gap_ms;
    t.entry.after_to = e.ts_ms + cfg_.gap_ms + cfg_.after_ms;
    t.entry.ready_at_ms = t.entry.after_to;
    tracked_[e.id] = std::move(t);
    while (tracked_.size() > cfg_.max_reports) tracked_.erase(tracked_.begin());
  }
}

void ChangeRiskRunner::CaptureBefore(Tracked& t) const {
  const Event& e = t.entry.event;
  // Candidates carry the event's first scope label; then every scope label
  // both have must agree.
  std::string first;
  for (const auto& name : cfg_.scope_labels) {
    std::string_view v = e.labels.Get(name);
    if (!v.empty()) {
      first = "{" + name + "=" + Quote(v) + "}";
      break;
    }
  }
  t.before_captured = true;
  if (first.empty()) return;
  auto sel = SeriesSelector::Parse(first);
  if (!sel.ok()) return;
  for (const SeriesInfo& s : engine_->FindSeries(*sel, cfg_.max_series * 4)) {
    bool agrees = true;
    for (const auto& name : cfg_.scope_labels) {
      std::string_view ev = e.labels.Get(name), sv = s.labels.Get(name);
      if (!ev.empty() && !sv.empty() && ev != sv) agrees = false;
    }
    if (!agrees) continue;
    SeriesInfo info;
    KpiWindows k;
    if (!engine_->Points(s.id, t.entry.before_from, t.entry.before_to, &info, &k.before)) continue;
    k.labels = s.labels;
    t.ids.push_back(s.id);
    t.kpis.push_back(std::move(k));
    if (t.ids.size() >= cfg_.max_series) break;
  }
  t.entry.series = t.ids.size();
}

void ChangeRiskRunner::CaptureAfter(Tracked& t) const {
  for (size_t i = 0; i < t.ids.size(); ++i) {
    SeriesInfo info;
    engine_->Points(t.ids[i], t.entry.after_from, t.entry.after_to, &info, &t.kpis[i].after);
  }
}

void ChangeRiskRunner::Complete(Tracked& t, TimestampMs now) const {
  CaptureAfter(t);
  t.entry.report = AssessChangeRisk(t.kpis, risk_cfg_);
  t.entry.ready = true;
  t.entry.computed_ms = now;
  t.kpis.clear();
  t.ids.clear();
  if (t.entry.report.risk >= RiskSeverity::kMedium) {
    spdlog::warn("change risk of event {} ({} {}): {}", t.entry.event.id, t.entry.event.kind,
                 t.entry.event.labels.ToString(), t.entry.report.summary);
  }
}

size_t ChangeRiskRunner::Tick(TimestampMs now) {
  // The engine's windows are read without holding mu_ (they take the shard
  // locks), on copies of the entries that are due.
  std::vector<Tracked> due;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [id, t] : tracked_) {
      if (t.entry.ready) continue;
      if ((!t.before_captured && now >= t.entry.before_to) || (t.before_captured && now >= t.entry.after_to)) {
        due.push_back(t);
      }
    }
  }
  size_t done = 0;
  for (auto& t : due) {
    if (!t.before_captured) CaptureBefore(t);
    // A change whose after-window has already closed (a replayed event)
    // completes in the same tick.
    if (now >= t.entry.after_to) {
      Complete(t, now);
      ++done;
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& t : due) {
    auto it = tracked_.find(t.entry.event.id);
    if (it != tracked_.end()) it->second = std::move(t);
  }
  return done;
}

std::optional<ChangeRiskEntry> ChangeRiskRunner::Get(int64_t event_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = tracked_.find(event_id);
  if (it == tracked_.end()) return std::nullopt;
  return it->second.entry;
}

}  // namespace vigil
