// ChangeRiskRunner: turns deploy and configuration events into change-risk
// reports (detect/change_risk.h) once the window after the change has
// closed, and keeps them for GET /api/v1/events/{id}/risk.
//
// For an event at t (kinds from detect.change_risk.kinds) the KPIs are the
// series that share at least one scope label with the event (service,
// host, endpoint, ...) and contradict none of them. Their window before,
// [t - before, t - gap], is copied from the engine's per-series windows as
// soon as it has closed (so a short in-memory window cannot lose it), the
// window after, [t + gap, t + gap + after], when that one closes; then the
// report is computed. Until then the event's report is "pending" with the
// time it will be ready (by default 9 minutes after the change).
//
// Bounded: at most max_reports events are kept (the oldest are forgotten),
// at most max_series KPIs per event. Reports live in memory only (the
// engine re-registers recent change events from the store at start).
// Thread-safe: OnEvents() from HTTP threads, Tick() from the engine's
// watcher thread, Get() from anywhere.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/event.h"
#include "detect/change_risk.h"
#include "engine/config.h"

namespace vigil {

class Engine;

struct ChangeRiskEntry {
  Event event;
  bool ready = false;
  TimestampMs before_from = 0, before_to = 0, after_from = 0, after_to = 0;
  TimestampMs ready_at_ms = 0;     // when the report is (or will be) computed
  TimestampMs computed_ms = 0;     // 0 while pending
  size_t series = 0;               // KPIs matched
  ChangeRiskReport report;         // valid when ready
};

class ChangeRiskRunner {
 public:
  ChangeRiskRunner(const Engine* engine, ChangeRiskSettings cfg);

  // True for the event kinds that get a report.
  bool IsChange(const Event& e) const;
  // Registers stored events (ids assigned); others than changes are ignored.
  void OnEvents(const std::vector<Event>& events);
  // Captures closed windows and completes due reports; returns how many
  // reports were completed.
  size_t Tick(TimestampMs now);
  // The entry of one event, or nullopt when it is not a tracked change.
  std::optional<ChangeRiskEntry> Get(int64_t event_id) const;

 private:
  struct Tracked {
    ChangeRiskEntry entry;
    bool before_captured = false;
    std::vector<SeriesId> ids;
    std::vector<KpiWindows> kpis;
  };
  void CaptureBefore(Tracked& t) const;
  void CaptureAfter(Tracked& t) const;
  void Complete(Tracked& t, TimestampMs now) const;

  const Engine* engine_;
  ChangeRiskSettings cfg_;
  ChangeRiskConfig risk_cfg_;
  mutable std::mutex mu_;
  std::map<int64_t, Tracked> tracked_;  // by event id; ids grow, so begin() is the oldest
};

}  // namespace vigil
