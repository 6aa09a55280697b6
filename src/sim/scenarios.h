// The scenario suite: a fixed, versioned list of labelled runs of the
// simulator, covering every fault type on each built-in topology, a few
// overlapping pairs, and fault-free stretches for false alarms. Changing
// a scenario changes kSuiteVersion, so scorecards stay comparable.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sim/faults.h"

namespace vigil::sim {

inline constexpr const char* kSuiteVersion = "v2";  // v2: exceptions and bad-deploy fail a method that is called

struct Scenario {
  std::string id;          // e.g. "ob-cpu-load"
  std::string topology;    // ob, sockshop, trainticket
  std::vector<FaultSpec> faults;  // empty: a fault-free stretch
  int64_t duration_ms = 0;
  // Time given to the detectors to learn each new series before anything
  // counts (incidents before it are ignored; faults start after it).
  int64_t learn_ms = 0;
  uint64_t seed = 0;
  std::string description;
};

std::vector<Scenario> ScenarioSuite();
// One scenario by id; NotFound lists nothing (callers list the suite).
const Scenario* FindScenario(const std::vector<Scenario>& suite, const std::string& id);

}  // namespace vigil::sim
