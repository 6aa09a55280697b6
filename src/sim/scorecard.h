// Scorecard: detection, localization and recovery figures of a set of
// scenario runs against their ground truth, and the 1-5-10 line (the share of
// faults found within 1 minute, localized within 5, recovered within 10).
//
// Definitions (all times simulated):
//   detected      an incident of the scenario opened in [start, end + grace]
//                 on a related service: the root cause, the services that
//                 call it (directly or not), a partition's peer, and for a
//                 traffic surge everything downstream of the entry;
//   delay         first such incident's opened time - fault start;
//   false alarm   an incident opened after the learning period and outside
//                 every fault's [start, end + grace], per day of such time
//                 (inside a window a fault's effects cascade through retries
//                 and shared load too far to attribute each incident);
//   AC@k          the root-cause service is in the top k of the ranking of
//                 the fault's first incident (0 when missed); Avg@5 is the
//                 mean of AC@1..AC@5 (Yu et al., MicroRank, WWW 2021);
//   localize      ranking time - fault start; recover: remediation time -
//                 fault start.
// Columns that need data no incident carries (a ranking, a remediation)
// are null, never 0.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "sim/model.h"

namespace vigil::sim {

struct ScoredIncident {
  TimestampMs opened_ms = 0;          // when its first evidence was seen (the trouble's start)
  std::string service, instance;      // the incident's entity
  std::vector<std::string> ranking;   // root-cause services, best first; empty when none
  TimestampMs ranked_ms = 0;          // when the ranking was made (0 = none)
  TimestampMs remediated_ms = 0;      // when a remediation ran (0 = none)
  std::vector<std::string> member_services;  // services of the entities that joined it
  // When the detector decided to open it (the "opened" timeline line: the
  // anomaly that completed the evidence); 0 = same as opened_ms. Detection
  // delay is measured to this moment, the earliest anyone could be paged.
  TimestampMs declared_ms = 0;
};

struct ScenarioResult {
  std::string scenario;
  std::vector<GroundTruthFault> faults;
  // Per fault: the services whose incidents can be about it (see
  // RelatedServices); empty = any service.
  std::vector<std::vector<std::string>> related;
  TimestampMs scored_from_ms = 0, end_ms = 0;
  std::vector<ScoredIncident> incidents;
};

struct ScoreRow {
  int faults = 0, detected = 0, false_alarms = 0;
  int entity_hits = 0;  // detected faults with an incident on the root-cause service in their window
  double fault_free_days = 0;
  std::optional<double> detection_recall, false_alarms_per_day, detect_delay_p50_s, detect_delay_p95_s, ac1, ac3,
      avg5, localize_p50_s, recover_p50_s, within_1_5_10, found_within_1m;
};

struct Scorecard {
  ScoreRow overall;
  std::map<std::string, ScoreRow> by_fault;
};

// Services an incident may be on and still be about `fault` (see above).
std::vector<std::string> RelatedServices(const Topology& topology, const GroundTruthFault& fault);

Scorecard Score(const std::vector<ScenarioResult>& runs, int64_t grace_ms = 120000);

// {"detection_recall", "false_alarms_per_day", "detect_delay_p50_s",
//  "detect_delay_p95_s", "ac1", "ac3", "avg5", "localize_p50_s",
//  "recover_p50_s", "within_1_5_10"}, null where not available.
std::string ScoreRowJson(const ScoreRow& row);

}  // namespace vigil::sim
