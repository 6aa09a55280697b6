// Incidents: anomalies (and later alerts) of one entity joined over time.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/labels.h"
#include "core/sample.h"

namespace vigil {

enum class IncidentState { kOpen, kResolved };

inline const char* IncidentStateName(IncidentState s) {
  return s == IncidentState::kOpen ? "open" : "resolved";
}

// One line of an incident's timeline.
struct TimelineEntry {
  int64_t id = 0;
  int64_t incident_id = 0;
  TimestampMs ts_ms = 0;
  std::string kind;   // "opened", "reopened", "anomaly", "event", "notification", "acknowledged", "resolved"
  std::string text;   // human-readable line
  int64_t ref_id = 0; // id of the anomaly or event it refers to, or 0
};

// A series taking part in an incident, with its strongest evidence.
struct IncidentSeries {
  SeriesId series = 0;
  std::string name;          // Labels::ToString() of the series
  double max_score = 0;
  int anomalies = 0;
  TimestampMs last_anomaly_ms = 0;
};

struct Incident {
  int64_t id = 0;
  std::string entity;        // canonical entity key, e.g. instance="h:9100",job="node"
  Labels entity_labels;
  // Other entities that joined this incident (pods of the same service,
  // callers and callees of a young incident), in the order they joined.
  std::vector<std::string> members;
  std::string title;
  IncidentState state = IncidentState::kOpen;
  TimestampMs opened_ms = 0;
  TimestampMs updated_ms = 0;
  TimestampMs resolved_ms = 0;   // 0 while open
  TimestampMs last_anomaly_ms = 0;
  bool acknowledged = false;
  std::string acknowledged_by;
  double max_score = 0;
  int anomaly_count = 0;
  std::vector<IncidentSeries> series;  // strongest first
};

}  // namespace vigil
