// KpiCsv: reads labelled KPI series in the AIOps Challenge 2018 layout: a
// CSV with header `timestamp,value,label,KPI ID` (timestamps in seconds;
// label 1 = anomalous), rows of many KPIs possibly interleaved. Columns are
// found by name, so extra columns and other orders are accepted.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/sample.h"
#include "core/status.h"

namespace vigil {

struct LabelledKpi {
  std::vector<TimestampMs> ts;
  std::vector<double> values;
  std::vector<bool> labels;
};

// KPI ID -> series, each sorted by time (duplicate timestamps keep the first).
Result<std::map<std::string, LabelledKpi>> ReadKpiCsv(const std::string& path);

}  // namespace vigil
