// Host scan: when a business KPI breaks, rank hosts by how abnormal they and
// their pods are in the same window, so infrastructure can be ruled in or
// out at a glance. A host's score is the robust change (BARO-style, see
// metric_evidence.h) of its own node metrics (series whose indicator starts
// with "Node" or that carry a host but no service), and otherwise the
// median over its pods of their strongest resource change: one sick pod
// does not make a sick host, most pods on it do.
#pragma once

#include <string>
#include <vector>

#include "rca/case_data.h"
#include "rca/metric_evidence.h"

namespace vigil::rca {

struct HostSuspect {
  std::string host;
  double score = 0;
  std::string indicator;  // its strongest metric (node metric or a pod's)
  std::string instance;   // the pod of that metric, "" for a node metric
  double metric_score = 0;
  int pods = 0;
};

std::vector<HostSuspect> ScanHosts(const CaseData& data, const std::vector<MetricChange>& changes);

}  // namespace vigil::rca
