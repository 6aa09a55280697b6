// Scoping a case to the incident it is about.
//
// The daemon gathers everything it holds around an incident's time; when two
// applications fail at once (or one is noisy while another breaks) the
// localizers would rank the other application's symptoms too. ScopeToIncident
// keeps the part of the case that can be connected to the incident: the
// connected component of the call graph (spans, known dependencies) that holds
// the incident's services, the services with a pod on one of the incident's
// hosts (one hop, not transitively: a noisy neighbour is a cause, its own
// callers are not), and every service the graph knows no call of (unknown
// topology is never taken as proof of independence). Services in other
// components that do have calls -- another application, as far as the calls
// show -- are dropped with their metrics, spans, logs and events.
#pragma once

#include <string>
#include <vector>

#include "rca/case_data.h"

namespace vigil::rca {

struct Scope {
  std::vector<std::string> kept;     // services kept, sorted
  std::vector<std::string> dropped;  // services dropped, sorted
};

// `services` and `instances` name the incident (its entity and members);
// an empty `services` leaves the case whole. Returns what was kept/dropped.
Scope ScopeToIncident(CaseData* data, const std::vector<std::string>& services,
                      const std::vector<std::string>& instances);

}  // namespace vigil::rca
