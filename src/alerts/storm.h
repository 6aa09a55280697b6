// StormGenerator: labelled alert storms for `vigil eval storms`.
//
// A storm is what an on-call engineer's pager sees during a bad hour of a
// microservice system: a layered call graph (edge -> api -> core -> data
// services), several concurrent faults, each starting at one root service
// and spreading to the services that call it (hop by hop, with a delay and
// a probability per call edge), every affected service firing several
// alert rules on several of its pods; plus unrelated short blips
// (background noise) and alerts that flap all hour. Alerts are sent the
// way Prometheus sends them: re-sent every resend interval while firing
// with endsAt a few intervals ahead, and once more with the real endsAt
// when they resolve.
//
// Every alert carries its truth: the fault it belongs to, or -1 for noise
// and flapping alerts. Deterministic by seed (splitmix64), no clock.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "alerts/topology.h"
#include "core/alert.h"

namespace vigil {

struct StormConfig {
  uint64_t seed = 1;
  int faults = 6;
  TimestampMs duration_ms = 3600'000;
  TimestampMs fault_start_spread_ms = 20 * 60'000;  // faults start within this span: they overlap
  int noise_alerts = 40;
  int flapping_alerts = 4;
  double spread_probability = 0.7;  // per call edge
  TimestampMs resend_ms = 60'000;
  TimestampMs start_ms = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
  // Fraction of (caller service, call-side rule) pairs whose alerts name
  // the callee the fault reached the caller through, as a service mesh's
  // or a client library's rules do (destination_service, upstream, peer).
  // Call-side rules are those about calls (UpstreamErrors,
  // ConnectionErrors, TimeoutsHigh), never CPU, memory or readiness; a
  // fault's root names nothing. Decided per pair, by a stream of its own:
  // 0 (the default, the storm suite) generates exactly the storms without
  // it.
  double dependency_label_fraction = 0;
};

struct StormSend {
  TimestampMs at = 0;
  Alert alert;
};

struct StormFault {
  int id = 0;
  std::string root_service;
  TimestampMs start_ms = 0, end_ms = 0;
  int alerts = 0;
};

struct Storm {
  ServiceTopology topology;
  std::vector<std::pair<std::string, std::string>> calls;  // caller, callee (for YAML dumps)
  std::vector<StormSend> sends;                             // in time order
  std::vector<StormFault> faults;
  // Truth per alert firing episode: fingerprint -> fault id (-1 = noise),
  // in order of the episodes' start (two faults may fire the same rule on
  // the same pod; the first in time started the alert).
  std::vector<std::pair<Fingerprint, int>> truth;
  int alert_episodes = 0;                                   // alerts received (firing episodes)
  // Alerts two faults fired together (one continuous episode begun by one
  // fault and carried on by another): their truth is both faults; the
  // scorer leaves them out of the pairwise figures (`truth` names the first).
  std::set<Fingerprint> shared;
};

Storm GenerateStorm(const StormConfig& cfg);

}  // namespace vigil
