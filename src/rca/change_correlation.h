// Change correlation: deploys and configuration changes shortly before an
// incident are the first suspects of any on-call engineer (Google SRE book,
// ch. 12: "what touched it last"); empirical studies of cloud incidents
// (e.g. Ghosh et al., "How to Fight Production Incidents? An Empirical
// Study on a Large-Scale Cloud Service", SoCC 2022) find changes behind a
// large share of them. A change on a service within `lookback_ms` before
// the abnormal window (or inside it) scores by its recency; the ensemble
// lets it raise a candidate that other evidence already suspects.
#pragma once

#include <string>
#include <vector>

#include "rca/case_data.h"

namespace vigil::rca {

struct ChangeSuspect {
  std::string service, instance;
  std::string kind, text;  // event kind (deploy, config, ...) and its text
  TimestampMs ts_ms = 0;
  double minutes_before = 0;  // incident_ms - ts (negative: after the start)
  double score = 0;           // 1 at the incident, halving every half_life_ms before it
};

struct ChangeOptions {
  int64_t lookback_ms = 30 * 60000;
  int64_t half_life_ms = 10 * 60000;
  int64_t after_ms = 5 * 60000;  // changes this long after incident_ms still count
};

std::vector<ChangeSuspect> CorrelateChanges(const CaseData& data, const ChangeOptions& o = {});

}  // namespace vigil::rca
