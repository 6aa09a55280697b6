// Storm scoring for `vigil eval storms`: replays a generated storm through
// the AlertPipeline on a simulated clock (one tick per second) and scores
// what it did against the storm's truth.
//
//   compression   1 - notifications / alerts (alerts = firing episodes
//                 received, not re-sends; notifications include the
//                 all-clear of each incident, counted apart too);
//   purity        pairwise precision: of the alert pairs put in one
//                 incident, the share that belong to one true fault;
//   completeness  pairwise recall: of the alert pairs of one true fault,
//                 the share put in one incident;
//   missed        faults none of whose alerts was in a firing notification
//                 or a split notice (AlertPipeline::SplitNotice).
// The unit is the alert (fingerprint). Noise and flapping alerts are each
// their own true cluster, so one that joins a fault's incident costs
// purity; an alert never put in an incident is its own predicted cluster.
// An alert two faults fired as one continuous episode (Storm::shared) has
// no single true fault and is left out of the pairs (it still counts in
// alerts, compression and missed faults).
// (Pairwise precision/recall as in clustering evaluation, e.g. Amigo et al.,
// "A comparison of extrinsic clustering evaluation metrics", 2009.)
#pragma once

#include <string>

#include "alerts/alerting_config.h"
#include "alerts/storm.h"

namespace vigil {

struct StormScore {
  int64_t alerts = 0;
  int64_t notifications = 0;
  int64_t all_clears = 0;   // of which "everything resolved" messages
  int64_t split_notices = 0;  // of which split notices (a fault that came and went muted as a symptom)
  int64_t incidents = 0;
  int64_t faults = 0;
  int64_t missed_faults = 0;
  int64_t shared_alerts = 0;  // alerts two faults fired together: left out of purity and completeness
  // Pair counts, so that several storms pool into one figure.
  double same_incident_pairs = 0, same_fault_pairs = 0, agreeing_pairs = 0;

  double compression() const { return alerts ? 1.0 - double(notifications) / alerts : 0; }
  double purity() const { return same_incident_pairs > 0 ? agreeing_pairs / same_incident_pairs : 1; }
  double completeness() const { return same_fault_pairs > 0 ? agreeing_pairs / same_fault_pairs : 1; }
  void Add(const StormScore& o);
};

// The alerting configuration vigil is scored with (the same for every
// storm): grouped by incident, Alertmanager's default timings, the storm's
// topology.
AlertingConfig StormAlertingConfig(const Storm& storm);

// With `explain`, appends where each fault's alerts went (one line per
// fault: its root, start and end in seconds from the first send, and its
// alerts per incident), each incident's mix of faults, and every fault
// alert that landed in an incident another fault dominates (labels, first
// seen). What `vigil eval storms --explain` prints, to see what costs.
// With `score_shared`, shared alerts are scored too, as the first fault's
// (the convention before they were left out; for comparison).
StormScore RunStorm(const Storm& storm, const AlertingConfig& cfg, std::string* explain = nullptr,
                    bool score_shared = false);

}  // namespace vigil
